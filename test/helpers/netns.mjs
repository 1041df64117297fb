// Network namespaces for test/deploy/netns.test.mjs: "machines" of their own on this one, each
// joined to the root namespace by a veth pair with private addresses, made with `ip` (iproute2,
// as root) under names unique to this run, and removed again. Importing this module has no side effect.
import { execFileSync } from 'node:child_process';

const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/**
 * Makes `count` namespaces, the i-th reached from the root namespace at `address` (10.B.C.2/24,
 * its end of a veth pair, whose root end is `gateway`, 10.B.C.1). Resolves
 * { hosts: [{ name, address, gateway, prefix }], remove() }, where `prefix` runs a command inside
 * the namespace (`ip netns exec NAME`); or throws, having removed what it made, with why (not
 * root, no iproute2, namespaces not allowed).
 */
export function makeHosts(count) {
  if (process.getuid?.() !== 0) throw new Error('network namespaces need root');
  const run = `${process.pid % 100000}`;
  // A /24 per host in 10.B.C.0 chosen by chance, so that two runs at once do not share one.
  const b = 100 + Math.floor(Math.random() * 150);
  const c = Math.floor(Math.random() * 200);
  const hosts = [];
  const remove = () => {
    for (const host of hosts) {
      for (const args of [['link', 'del', host.veth], ['netns', 'del', host.name]]) {
        try {
          ip(...args);
        } catch {
          // never made, or gone with the namespace
        }
      }
    }
  };
  try {
    for (let i = 0; i < count; i++) {
      const host = { name: `starlight-${run}-${i}`, veth: `slh${run}x${i}`, address: `10.${b}.${c + i}.2`, gateway: `10.${b}.${c + i}.1` };
      host.prefix = ['ip', 'netns', 'exec', host.name];
      hosts.push(host);
      const inner = `sln${run}x${i}`;
      ip('netns', 'add', host.name);
      ip('link', 'add', host.veth, 'type', 'veth', 'peer', 'name', inner, 'netns', host.name);
      ip('addr', 'add', `${host.gateway}/24`, 'dev', host.veth);
      ip('link', 'set', host.veth, 'up');
      ip('-n', host.name, 'addr', 'add', `${host.address}/24`, 'dev', inner);
      ip('-n', host.name, 'link', 'set', inner, 'up');
      ip('-n', host.name, 'link', 'set', 'lo', 'up');
    }
  } catch (error) {
    remove();
    throw new Error(`cannot make network namespaces with ip (iproute2): ${error.stderr?.toString().trim() || error.message}`);
  }
  return { hosts, remove };
}
