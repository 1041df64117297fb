# plaintext as a PSGI app, for Starlet in `npm run bench -- --scaling`: the same answer as
# bench/apps/node/plaintext.mjs (text/plain with a Content-Length).
use strict;
use warnings;

my $body = 'Hello, World!';

sub {
    return [200, ['Content-Type' => 'text/plain; charset=utf-8', 'Content-Length' => length $body], [$body]];
};
