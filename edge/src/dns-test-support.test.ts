import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { describe, it } from 'node:test';
import { ipv6Bytes, startDnsStub } from './dns-test-support.ts';

describe('DNS stub for tests', () => {
  it('when a resolver asks for a known name, then AAAA gets its address, A gets no record, and an unknown name does not exist', async () => {
    const dns = await startDnsStub({ 'Only-v6.test': '::1' });
    try {
      const resolver = new Resolver({ timeout: 2000, tries: 1 });
      resolver.setServers([`127.0.0.1:${dns.port}`]);
      assert.deepEqual(await resolver.resolve6('only-v6.test', { ttl: true }), [{ address: '::1', ttl: 5 }]);
      await assert.rejects(resolver.resolve4('only-v6.test'), { code: 'ENODATA' });
      await assert.rejects(resolver.resolve6('other.test'), { code: 'ENOTFOUND' });
      assert.deepEqual(dns.queries, [
        { name: 'only-v6.test', type: 28 },
        { name: 'only-v6.test', type: 1 },
        { name: 'other.test', type: 28 },
      ]);
    } finally {
      await dns.close();
    }
  });

  it('when an IPv6 address is written with ::, then its bytes fill the elided groups with zeros', () => {
    assert.equal(ipv6Bytes('::1').toString('hex'), '00000000000000000000000000000001');
    assert.equal(ipv6Bytes('2001:db8::8:1').toString('hex'), '20010db8000000000000000000080001');
    assert.equal(ipv6Bytes('fe80:0:0:0:0:0:0:2').toString('hex'), 'fe800000000000000000000000000002');
    assert.throws(() => ipv6Bytes('127.0.0.1'), /not an IPv6 address/);
  });
});
