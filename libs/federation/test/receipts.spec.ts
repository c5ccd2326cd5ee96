// sendReceipt: one signed receipt per received bundle, to its sender, never an exception.
import { describe, expect, it } from '@jest/globals';
import {
  generateSigningKey,
  importPrivateKey,
  importPublicKey,
  openReceipt,
  type Receipt,
} from '../../protocol/src/index.js';
import { sendReceipt } from '../src/index.js';

const receipt: Receipt = {
  v: 1,
  from: 'vn',
  to: 'kr',
  seq: '42',
  root: 'q1mXhFH8BdOMLr6pz5AvvvzzLyIqSqCDYVTLSmz4rAA',
  count: 3,
  accepted: 2,
  rejected: [{ index: 1, code: 'INVALID_VALUE' }],
  receivedAt: '2026-11-29T04:00:00.000Z',
};

describe('sendReceipt', () => {
  it("publishes the signed receipt on the sender's receipts subject, de-duplicated by seq", async () => {
    const k = await generateSigningKey();
    const sent: { subject: string; data: Uint8Array; msgId: string }[] = [];
    const warnings: string[] = [];
    await sendReceipt(
      receipt,
      { kid: k.kid, key: importPrivateKey(k.privateJwk, 'Ed25519') },
      {
        publish: (subject, data, opts) => {
          sent.push({ subject, data, msgId: opts.msgId });
          return Promise.resolve();
        },
      },
      (m) => void warnings.push(m),
    );
    expect(warnings).toEqual([]);
    expect(sent.map((s) => [s.subject, s.msgId])).toEqual([
      ['fed.v1.vn.kr.receipts', 'receipt.vn.kr.42'],
    ]);
    const opened = await openReceipt(Buffer.from(sent[0]!.data).toString('utf8'), () =>
      importPublicKey(k.publicJwk, 'Ed25519'),
    );
    expect(opened).toEqual(receipt);
  });

  it('reports a publish that fails instead of throwing (the records are already stored)', async () => {
    const k = await generateSigningKey();
    const warnings: string[] = [];
    await expect(
      sendReceipt(
        receipt,
        { kid: k.kid, key: importPrivateKey(k.privateJwk, 'Ed25519') },
        {
          publish: () => Promise.reject(new Error('no responders')),
        },
        (m) => void warnings.push(m),
      ),
    ).resolves.toBeUndefined();
    expect(warnings).toEqual(['receipt to kr for #42 not sent: no responders']);
  });
});
