// The command-line parser: value kinds, syntax, aliases, suggestions, precedence, availability.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { describe, test } from 'node:test';

import { OPTIONS } from '../../dist/config/options.js';
import { UsageError, withAppDefaults } from '../../dist/config/resolve.js';
import { boolean, bytes, count, integer, list, octal, oneOf, repeated, seconds, text } from '../../dist/config/values.js';
import { parseCommandLine } from '../../dist/cli/parse.js';

const VERSION = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

const parse = (argv, env = {}) => parseCommandLine(argv, env);
const options = (argv, env = {}) => parse(argv, env).options;

/** Asserts a UsageError (exit code 2) with exactly this message, or one matching this RegExp. */
function fails(argv, message, env = {}) {
  assert.throws(
    () => parse(argv, env),
    (error) => {
      assert.ok(error instanceof UsageError, `not a UsageError: ${error}`);
      assert.equal(error.exitCode, 2);
      if (message instanceof RegExp) assert.match(error.message, message);
      else assert.equal(error.message, message);
      return true;
    },
  );
}

describe('defaults', () => {
  test('every option, with its default, and nothing else', () => {
    const cl = parse([]);
    assert.equal(cl.action, 'serve');
    assert.equal(cl.app, undefined);
    assert.equal(cl.explicit.size, 0);
    assert.deepEqual(cl.options, {
      host: undefined, port: 5000, listen: [], socket: undefined, socketMode: undefined, ipv6: true,
      backlog: 511, reusePort: false, ssl: false, sslKeyFile: undefined, sslCertFile: undefined,
      sslCaFile: undefined, sslClientCaFile: undefined, sslVerifyMode: 0,
      workers: availableParallelism(), maxReqsPerChild: Infinity, minReqsPerChild: undefined, spawnInterval: 0,
      mainProcessDelay: 100, gracefulTimeout: 30_000, workerTimeout: 60_000, daemonize: false, pid: undefined,
      user: undefined, group: undefined, umask: undefined,
      timeout: 300_000, keepaliveTimeout: 5_000, maxKeepaliveReqs: 1000, headerTimeout: 60_000, maxHeaderSize: 16384,
      maxHeaders: 100, maxBodySize: Infinity, serverSoftware: `starlight/${VERSION}`,
      forwardedAllowIps: ['127.0.0.1', '::1'], proxyProtocol: false,
      websocketMaxPayload: 16 * 1024 * 1024, websocketDeflate: false,
      env: 'production', import: [], eval: undefined, fastFetch: true, reload: false, reloadDirs: [], accessLog: undefined,
      accessLogFormat: 'combined', errorLog: undefined, quiet: false, statusPath: undefined,
      statusAllow: ['127.0.0.1', '::1'],
    });
  });

  test('env defaults to NODE_ENV, else production', () => {
    assert.equal(options([], { NODE_ENV: 'development' }).env, 'development');
    assert.equal(options([], { NODE_ENV: '' }).env, 'production');
    assert.equal(options(['-E', 'test'], { NODE_ENV: 'development' }).env, 'test');
  });

  test('list defaults are fresh copies, not the table itself', () => {
    options([]).forwardedAllowIps.push('10.0.0.1');
    assert.deepEqual(options([]).forwardedAllowIps, ['127.0.0.1', '::1']);
  });
});

describe('value kinds', () => {
  test('integer with bounds', () => {
    assert.equal(options(['--port=0']).port, 0);
    assert.equal(options(['--port', '65535']).port, 65535);
    assert.equal(options(['--backlog=007']).backlog, 7);
    fails(['--port=abc'], '--port: expected an integer from 0 to 65535, got "abc"');
    fails(['--port=65536'], '--port: expected an integer from 0 to 65535, got "65536"');
    fails(['--port=80.5'], /^--port: expected an integer/);
    fails(['--port=+80'], /^--port: expected an integer/);
    fails(['--port=0x50'], /^--port: expected an integer/);
    fails(['--backlog=0'], '--backlog: expected an integer >= 1, got "0"');
    fails(['--max-keepalive-reqs=0'], /^--max-keepalive-reqs: expected an integer >= 1/);
    assert.equal(options(['--workers=0']).workers, 0);
    assert.equal(options(['--max-headers=1']).maxHeaders, 1);
    assert.equal(integer(1, 3).parse('4'), undefined);
  });

  test('N|inf count', () => {
    assert.equal(options(['--max-reqs-per-child=500']).maxReqsPerChild, 500);
    assert.equal(options(['--max-reqs-per-child=inf']).maxReqsPerChild, Infinity);
    assert.equal(options(['--max-reqs-per-child=INF']).maxReqsPerChild, Infinity);
    fails(['--max-reqs-per-child=0'], '--max-reqs-per-child: expected an integer >= 1, or inf, got "0"');
    fails(['--max-reqs-per-child=many'], /^--max-reqs-per-child: expected an integer >= 1, or inf/);
    assert.equal(count(1).format(Infinity), 'inf');
  });

  test('one of a few integers (--ssl-verify-mode)', () => {
    const mode = oneOf(0, 1, 3);
    assert.deepEqual(['0', '1', '3'].map((value) => mode.parse(value)), [0, 1, 3]);
    assert.deepEqual(['2', '4', '', 'one', '1.0'].map((value) => mode.parse(value)), Array(5).fill(undefined));
    assert.equal(mode.expected, '0, 1 or 3');
  });

  test('seconds: plain non-negative decimals only, kept in milliseconds', () => {
    assert.equal(options(['--spawn-interval=0.5']).spawnInterval, 500);
    assert.equal(options(['--spawn-interval=.25']).spawnInterval, 250);
    assert.equal(options(['--graceful-timeout', '10']).gracefulTimeout, 10_000);
    assert.equal(options(['--worker-timeout=0']).workerTimeout, 0);
    assert.equal(options(['--timeout=2147483']).timeout, 2_147_483_000);
    for (const bad of ['5s', '-1', 'NaN', 'Infinity', '1e3', '1.', '0x10', '2147484']) {
      fails([`--timeout=${bad}`], `--timeout: expected a number of seconds from 0 to 2147483 (e.g. 0.5), got "${bad}"`);
    }
  });

  test('seconds that must be positive (--main-process-delay)', () => {
    assert.equal(options(['--main-process-delay=0.01']).mainProcessDelay, 10);
    fails(['--main-process-delay=0'], /^--main-process-delay: expected a number of seconds greater than 0/);
    fails(['--main-process-delay=0.0'], /^--main-process-delay: expected a number of seconds greater than 0/);
    assert.equal(seconds(false).parse('0'), 0);
  });

  test('bytes with k/m/g suffixes, unlimited only where allowed', () => {
    assert.equal(options(['--max-header-size=8192']).maxHeaderSize, 8192);
    assert.equal(options(['--max-header-size=64k']).maxHeaderSize, 65536);
    assert.equal(options(['--max-header-size=1M']).maxHeaderSize, 1048576);
    assert.equal(options(['--max-body-size=2g']).maxBodySize, 2 * 1024 ** 3);
    assert.equal(options(['--max-body-size=0']).maxBodySize, 0);
    assert.equal(options(['--max-body-size=unlimited']).maxBodySize, Infinity);
    assert.equal(options(['--max-body-size=inf']).maxBodySize, Infinity);
    fails(['--max-header-size=unlimited'], /^--max-header-size: expected a size in bytes of at least 1 \(e\.g\./);
    fails(['--max-header-size=0'], /^--max-header-size: expected a size in bytes of at least 1/);
    for (const bad of ['1.5k', '10x', '10kb', 'k', '-1']) fails([`--max-body-size=${bad}`], /^--max-body-size: expected/);
    fails(['--max-body-size=99999999999g'], /^--max-body-size: expected/);
    assert.match(bytes(0, true).expected, /, or unlimited$/);
    assert.equal(bytes(0, true).format(Infinity), 'unlimited');
  });

  test('octal modes', () => {
    const mode = octal();
    for (const written of ['660', '0660', '0o660', '0O660']) assert.equal(mode.parse(written), 0o660, written);
    assert.equal(mode.parse('022'), 0o22);
    assert.equal(mode.parse('7777'), 0o7777);
    for (const bad of ['8', '0x1b', '', '66a', '77777', '-1', 'o660']) assert.equal(mode.parse(bad), undefined, bad);
    assert.equal(mode.format(0o22), '0022');
    assert.equal(mode.format(0o660), '0660');
  });

  test('booleans: 1/0, true/false, yes/no, on/off', () => {
    for (const on of ['1', 'true', 'yes', 'on', 'TRUE']) assert.equal(options([`--quiet=${on}`]).quiet, true, on);
    for (const off of ['0', 'false', 'no', 'off', 'No']) assert.equal(options([`--ipv6=${off}`]).ipv6, false, off);
    fails(['--ipv6=maybe'], '--ipv6: expected 1 or 0 (also true/false, yes/no, on/off), got "maybe"');
    fails(['--quiet='], '--quiet: expected 1 or 0 (also true/false, yes/no, on/off), got ""');
    assert.equal(boolean().flag, true);
  });

  test('strings: empty only where it means something', () => {
    assert.equal(options(['--host=::1']).host, '::1');
    assert.equal(options(['--pid', 'run/starlight.pid']).pid, 'run/starlight.pid');
    assert.equal(options(['--server-software=']).serverSoftware, '');
    assert.equal(options(['--server-software', 'x/1']).serverSoftware, 'x/1');
    fails(['--host='], '--host: missing value (expected --host=ADDR)');
    assert.equal(text().parse(''), undefined);
    assert.equal(text(true).parse(''), '');
  });

  test('repeatable: each occurrence adds one, the environment is comma-separated', () => {
    assert.deepEqual(options(['-l', ':80', '--listen=:81', '-l:82']).listen, [':80', ':81', ':82']);
    assert.deepEqual(options(['--import', 'tsx', '--import=./otel.js']).import, ['tsx', './otel.js']);
    assert.deepEqual(options(['--import=a,b']).import, ['a,b']);
    assert.deepEqual(options([], { STARLIGHT_IMPORT: 'tsx, ./otel.js,' }).import, ['tsx', './otel.js']);
    // the command line replaces the environment's list rather than adding to it
    assert.deepEqual(options(['-l', ':90'], { STARLIGHT_LISTEN: ':80,:81' }).listen, [':90']);
    fails(['--listen='], '--listen: missing value (expected --listen=SPEC)');
    assert.equal(repeated().repeatable, true);
  });

  test('comma lists', () => {
    const ips = list();
    assert.deepEqual(ips.parse('127.0.0.1, ::1,10.0.0.0/8'), ['127.0.0.1', '::1', '10.0.0.0/8']);
    assert.deepEqual(ips.parse(''), []);
    assert.deepEqual(ips.parse(','), []);
    assert.equal(ips.format(['a', 'b']), 'a,b');
    assert.equal(ips.repeatable, false);
  });
});

describe('syntax', () => {
  test('--name=value, --name value, -p 8080, -p8080, -p=8080', () => {
    for (const argv of [['--port=8080'], ['--port', '8080'], ['-p', '8080'], ['-p8080'], ['-p=8080']]) {
      assert.equal(options(argv).port, 8080, argv.join(' '));
    }
  });

  test('a flag never takes the next argument as its value', () => {
    let cl = parse(['--quiet', 'app.js']);
    assert.equal(cl.options.quiet, true);
    assert.equal(cl.app, 'app.js');
    cl = parse(['-q', 'app.js', '--ipv6']);
    assert.equal(cl.options.quiet, true);
    assert.equal(cl.options.ipv6, true);
    assert.equal(cl.app, 'app.js');
    fails(['--quiet', 'a.js', '--ipv6', '0'], 'unexpected argument "0": only one APP may be given (already "a.js")');
  });

  test('--no-name for on/off options only', () => {
    assert.equal(options(['--no-ipv6']).ipv6, false);
    assert.equal(options(['--quiet', '--no-quiet']).quiet, false);
    assert.ok(parse(['--no-quiet']).explicit.has('quiet'));
    fails(['--no-port'], '--no-port: only on/off options have a --no- form, and --port is not one');
    fails(['--no-help'], '--no-help: only on/off options have a --no- form, and --help is not one');
    fails(['--no-quiet=1'], '--no-quiet takes no value');
  });

  test('short flags bundle, and a value option ends the bundle', () => {
    const cl = parse(['-qp8080', 'app.js']);
    assert.equal(cl.options.quiet, true);
    assert.equal(cl.options.port, 8080);
    assert.equal(cl.app, 'app.js');
    assert.equal(options(['-qp', '9090']).port, 9090);
    fails(['-q=1'], '-q takes no value (write --quiet=0|1)');
  });

  test('the last of a repeated option wins', () => {
    assert.equal(options(['-p', '1', '--port=2', '-p3']).port, 3);
    assert.equal(options(['--workers=2', '--max-workers=5']).workers, 5);
  });

  test('a value that is missing is an error naming the accepted form', () => {
    fails(['--port'], '--port: missing value (expected --port=N)');
    fails(['--port='], '--port: missing value (expected --port=N)');
    fails(['-p'], '-p: missing value (expected -p N)');
    fails(['--port', '--quiet'], '--port: missing value (expected --port=N)');
    fails(['--workers', '-q'], '--workers: missing value (expected --workers=N)');
    fails(['--port', '--', 'app.js'], '--port: missing value (expected --port=N)');
    // a value starting with a dash is written with =, and - alone is a value
    assert.equal(options(['--eval=-1']).eval, '-1');
    assert.equal(options(['--pid', '-']).pid, '-');
  });

  test('one APP; -- ends the options', () => {
    assert.equal(parse(['app.ts']).app, 'app.ts');
    assert.equal(parse(['--', '-weird.js']).app, '-weird.js');
    assert.equal(parse(['-q', '--', '--help']).app, '--help');
    fails(['a.js', 'b.js'], 'unexpected argument "b.js": only one APP may be given (already "a.js")');
    fails(['a.js', '--', 'b.js'], 'unexpected argument "b.js": only one APP may be given (already "a.js")');
  });

  test('-e CODE and an APP together is an error', () => {
    const code = 'export default { fetch: () => new Response("hi") }';
    assert.equal(options(['-e', code]).eval, code);
    fails(['-e', 'x', 'app.js'], '-e and an APP argument ("app.js") cannot be used together');
    fails(['app.js'], 'STARLIGHT_EVAL and an APP argument ("app.js") cannot be used together', { STARLIGHT_EVAL: 'x' });
  });
});

describe('aliases', () => {
  test('long aliases set the same option', () => {
    const cl = parse(['--max-workers=3', '--max-requests=100']);
    assert.equal(cl.options.workers, 3);
    assert.equal(cl.options.maxReqsPerChild, 100);
    assert.deepEqual([...cl.explicit].sort(), ['maxReqsPerChild', 'workers']);
  });

  test('short options', () => {
    const cl = parse(['-o', '127.0.0.1', '-p', '8080', '-l', ':81', '-l', '[::1]:82', '-q', '-E', 'development']);
    assert.equal(cl.options.host, '127.0.0.1');
    assert.equal(cl.options.port, 8080);
    assert.deepEqual(cl.options.listen, [':81', '[::1]:82']);
    assert.equal(cl.options.quiet, true);
    assert.equal(cl.options.env, 'development');
    assert.equal(options(['-e', '1']).eval, '1');
  });
});

describe('unknown options', () => {
  test('near misses get a suggestion', () => {
    fails(['--ssl-cert', 'x.pem'], 'unknown option --ssl-cert (did you mean --ssl-cert-file?)');
    fails(['--workrs=4'], 'unknown option --workrs (did you mean --workers?)');
    fails(['--max-request=5'], 'unknown option --max-request (did you mean --max-requests?)');
    fails(['--keepalive=3'], 'unknown option --keepalive (did you mean --keepalive-timeout?)');
    fails(['--max_workers=3'], 'unknown option --max_workers (did you mean --max-workers?)');
    fails(['--Port=3'], 'unknown option --Port (did you mean --port?)');
    fails(['--no-quite'], 'unknown option --no-quite (did you mean --no-quiet?)');
    fails(['--portx=1'], 'unknown option --portx (did you mean --port?)');
  });

  test('far misses do not', () => {
    fails(['--frobnicate'], 'unknown option --frobnicate');
    fails(['--enable-quiet'], 'unknown option --enable-quiet');
  });

  test('short options and single-dash long ones', () => {
    fails(['-x'], 'unknown option -x');
    fails(['-P', '80'], 'unknown option -P (did you mean -p?)');
    fails(['-qx'], 'unknown option -x');
    fails(['-port', '80'], 'unknown option -port (did you mean --port?)');
    fails(['-workers=2'], 'unknown option -workers (did you mean --workers?)');
  });
});

describe('environment', () => {
  test('STARLIGHT_* sets options, converted like the command line', () => {
    const cl = parse([], { STARLIGHT_WORKERS: '4', STARLIGHT_QUIET: 'yes', STARLIGHT_MAX_BODY_SIZE: '1m', STARLIGHT_HOST: '::' });
    assert.equal(cl.options.workers, 4);
    assert.equal(cl.options.quiet, true);
    assert.equal(cl.options.maxBodySize, 1048576);
    assert.equal(cl.options.host, '::');
    assert.deepEqual([...cl.explicit].sort(), ['host', 'maxBodySize', 'quiet', 'workers']);
    assert.equal(options([], { STARLIGHT_IPV6: 'false' }).ipv6, false);
    assert.equal(options([], { STARLIGHT_MAX_REQS_PER_CHILD: 'inf' }).maxReqsPerChild, Infinity);
  });

  test('a bad value names the variable', () => {
    fails([], 'STARLIGHT_PORT: expected an integer from 0 to 65535, got "http"', { STARLIGHT_PORT: 'http' });
    fails([], 'PORT: expected an integer from 0 to 65535, got "99999"', { PORT: '99999' });
    fails([], /^STARLIGHT_QUIET: expected 1 or 0/, { STARLIGHT_QUIET: 'loud' });
    fails([], /^STARLIGHT_TIMEOUT: expected a number of seconds/, { STARLIGHT_TIMEOUT: '5s' });
  });

  test('unknown STARLIGHT_* and empty variables are ignored', () => {
    const cl = parse([], { STARLIGHT_FROBNICATE: '1', STARLIGHT_PORT: '', PORT: '', STARLIGHT_HELP: '1' });
    assert.equal(cl.action, 'serve');
    assert.equal(cl.options.port, 5000);
    assert.equal(cl.explicit.size, 0);
  });
});

describe('precedence: command line > STARLIGHT_* > PORT > the app > the default', () => {
  const app = { port: 9000, hostname: '127.0.0.2' };
  const effective = (argv, env) => {
    const cl = parse(argv, env);
    return withAppDefaults(cl, app, '/srv/app.ts');
  };

  test('each layer over the next', () => {
    assert.equal(options([]).port, 5000);
    assert.equal(effective([], {}).port, 9000);
    assert.equal(effective([], { PORT: '6000' }).port, 6000);
    assert.equal(effective([], { PORT: '6000', STARLIGHT_PORT: '7000' }).port, 7000);
    assert.equal(effective(['-p', '8000'], { PORT: '6000', STARLIGHT_PORT: '7000' }).port, 8000);
    assert.ok(parse([], { PORT: '6000' }).explicit.has('port'));
  });

  test('the app fills host and port only where nothing else did', () => {
    assert.equal(effective([], {}).host, '127.0.0.2');
    assert.equal(effective(['-o', '::1'], {}).host, '::1');
    assert.equal(effective([], { STARLIGHT_HOST: '0.0.0.0' }).host, '0.0.0.0');
    const cl = parse([]);
    assert.deepEqual(withAppDefaults(cl, {}, 'app.ts'), cl.options);
    assert.equal(withAppDefaults(cl, { port: '3000' }, 'app.ts').port, 3000);
    assert.equal(withAppDefaults(cl, { port: 0 }, 'app.ts').port, 0);
    withAppDefaults(cl, app, 'app.ts');
    assert.equal(cl.options.port, 5000, 'the command line is not changed');
  });

  test("a bad value in the app's exports names the app", () => {
    const cl = parse([]);
    const bad = (exports, message) => assert.throws(() => withAppDefaults(cl, exports, '/srv/app.ts'), { name: 'UsageError', message });
    bad({ port: NaN }, '/srv/app.ts: exported port: expected an integer from 0 to 65535, got NaN');
    bad({ port: 70000 }, '/srv/app.ts: exported port: expected an integer from 0 to 65535, got 70000');
    bad({ port: 'http' }, '/srv/app.ts: exported port: expected an integer from 0 to 65535, got "http"');
    bad({ hostname: '' }, '/srv/app.ts: exported hostname: expected a non-empty value, got ""');
    // nothing is checked for what the command line already set
    assert.equal(withAppDefaults(parse(['-p', '1']), { port: 'bad' }, 'app.ts').port, 1);
  });
});

describe('--reload and --reload-dirs', () => {
  test('-r, -R with a comma list, and the environment', () => {
    assert.equal(options(['-r']).reload, true);
    assert.deepEqual(options(['-R', 'src,lib']).reloadDirs, ['src', 'lib']);
    assert.deepEqual(options(['--reload-dirs=src']).reloadDirs, ['src']);
    assert.deepEqual(options([], { STARLIGHT_RELOAD: '1', STARLIGHT_RELOAD_DIRS: 'a,b' }), { ...options([]), reload: true, reloadDirs: ['a', 'b'] });
  });
});

describe('--status-path and --status-allow', () => {
  test('a path beginning with /, and addresses or CIDR ranges', () => {
    assert.equal(options(['--status-path=/server-status']).statusPath, '/server-status');
    assert.deepEqual(options([]).statusAllow, ['127.0.0.1', '::1']);
    assert.deepEqual(options(['--status-allow=10.0.0.0/8, fd00::/8,::ffff:192.0.2.1']).statusAllow, ['10.0.0.0/8', 'fd00::/8', '::ffff:192.0.2.1']);
    assert.deepEqual(options([], { STARLIGHT_STATUS_ALLOW: '192.0.2.7' }).statusAllow, ['192.0.2.7']);
  });

  test('anything else is refused, saying what is wrong', () => {
    const path = 'expected a URL path beginning with / (e.g. /server-status), without ? or #';
    fails(['--status-path=relative'], `--status-path: ${path}, got "relative"`);
    fails(['--status-path=/status?json'], `--status-path: ${path}, got "/status?json"`);
    fails(['--status-allow=localhost'], '--status-allow: "localhost" is not an IP address or a CIDR range (e.g. 10.0.0.0/8)');
    fails(['--status-allow=127.0.0.1,10.0.0.0/33'], '--status-allow: "10.0.0.0/33" is not an IP address or a CIDR range (e.g. 10.0.0.0/8)');
    fails(['--status-allow=::1/129'], '--status-allow: "::1/129" is not an IP address or a CIDR range (e.g. 10.0.0.0/8)');
    fails(['--status-allow=10.0.0.0/x'], '--status-allow: "10.0.0.0/x" is not an IP address or a CIDR range (e.g. 10.0.0.0/8)');
  });
});

describe('--min-reqs-per-child', () => {
  test('may not exceed a finite maximum', () => {
    assert.equal(options(['--min-reqs-per-child=10', '--max-requests=20']).minReqsPerChild, 10);
    assert.equal(options(['--min-reqs-per-child=20', '--max-requests=20']).minReqsPerChild, 20);
    assert.equal(options(['--min-reqs-per-child=5000']).minReqsPerChild, 5000);
    fails(['--min-reqs-per-child=30', '--max-requests=20'], '--min-reqs-per-child=30 is greater than --max-requests=20');
    fails(['--max-reqs-per-child=20'], 'STARLIGHT_MIN_REQS_PER_CHILD=30 is greater than --max-reqs-per-child=20', {
      STARLIGHT_MIN_REQS_PER_CHILD: '30',
    });
    fails(['--min-reqs-per-child=0'], '--min-reqs-per-child: expected an integer >= 1, got "0"');
  });
});

describe('actions', () => {
  test('--help and --version', () => {
    assert.equal(parse(['--help']).action, 'help');
    assert.equal(parse(['-h']).action, 'help');
    assert.equal(parse(['--version']).action, 'version');
    assert.equal(parse(['-v']).action, 'version');
    assert.equal(parse(['-qv']).action, 'version');
  });

  test('help wins over everything, bad options and variables included', () => {
    assert.equal(parse(['--version', '--help']).action, 'help');
    assert.equal(parse(['-h', '--version']).action, 'help');
    assert.equal(parse(['--frobnicate', '--port=x', 'a.js', 'b.js', '--help']).action, 'help');
    assert.equal(parse(['--ssl', '-h'], { STARLIGHT_PORT: 'x' }).action, 'help');
    assert.equal(parse(['--bad', '--version']).action, 'version');
    assert.equal(parse(['-qh']).action, 'help');
    const cl = parse(['-p', '1', '--help']);
    assert.equal(cl.options.port, 5000);
    assert.equal(cl.explicit.size, 0);
  });

  test('but not after --, and they take no value', () => {
    assert.equal(parse(['--', '-h']).action, 'serve');
    fails(['--help=1'], '--help takes no value');
  });
});
