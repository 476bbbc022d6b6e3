import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import {
  AesGcmPayloadCodec,
  codecFromEnv,
  codecKeyFromBase64,
  dataConverterFromEnv,
} from '../../src/codec';

const keyA = randomBytes(32).toString('base64');
const keyB = randomBytes(32).toString('base64');
const text = new TextDecoder();

function payload(value: unknown): Payload {
  return defaultPayloadConverter.toPayload(value);
}

function value(p: Payload): unknown {
  return defaultPayloadConverter.fromPayload(p);
}

describe('AesGcmPayloadCodec', () => {
  it('round-trips payloads and stores only ciphertext with its key ID', async () => {
    const codec = codecFromEnv({ TEMPORAL_MTURK_CODEC_KEY: keyA })!;
    const secret = { workerId: 'A1SECRETWORKER', reason: 'Thanks for the careful work' };
    const [encoded] = await codec.encode([payload(secret)]);
    expect(text.decode(encoded!.metadata!.encoding!)).toBe('binary/encrypted');
    expect(text.decode(encoded!.metadata!['encryption-key-id']!)).toBe(codec.keyId);
    expect(codec.keyId).toMatch(/^tm-[0-9a-f]{16}$/);
    expect(Buffer.from(encoded!.data!).includes('A1SECRETWORKER')).toBe(false);
    const [decoded] = await codec.decode([encoded!]);
    expect(value(decoded!)).toEqual(secret);
  });

  it('encrypts the standard Payload message (readable by the other SDKs’ sample codecs)', async () => {
    const key = codecKeyFromBase64(keyA, 'key-1');
    const codec = new AesGcmPayloadCodec({ current: key });
    const original = payload('hello');
    const [encoded] = await codec.encode([original]);
    const data = Buffer.from(encoded!.data!);
    const { createDecipheriv } = await import('node:crypto');
    const decipher = createDecipheriv('aes-256-gcm', key.key, data.subarray(0, 12));
    decipher.setAuthTag(data.subarray(data.length - 16));
    const plain = Buffer.concat([decipher.update(data.subarray(12, -16)), decipher.final()]);
    const message = temporal.api.common.v1.Payload.decode(plain);
    expect(text.decode(message.metadata.encoding!)).toBe('json/plain');
    expect(text.decode(message.data!)).toBe('"hello"');
  });

  it('decrypts with a previous key after rotation, and says which key is missing', async () => {
    const old = codecFromEnv({
      TEMPORAL_MTURK_CODEC_KEY: keyA,
      TEMPORAL_MTURK_CODEC_KEY_ID: 'k1',
    })!;
    const [written] = await old.encode([payload(42)]);
    const rotated = codecFromEnv({
      TEMPORAL_MTURK_CODEC_KEY: keyB,
      TEMPORAL_MTURK_CODEC_KEY_ID: 'k2',
      TEMPORAL_MTURK_CODEC_PREVIOUS_KEYS: `k1=${keyA}`,
    })!;
    expect(value((await rotated.decode([written!]))[0]!)).toBe(42);

    const forgotten = codecFromEnv({ TEMPORAL_MTURK_CODEC_KEY: keyB })!;
    const err = await forgotten.decode([written!]).catch((e: unknown) => e as Error);
    expect((err as Error).message).toMatch(/encrypted with key k1, which is not configured/);
    expect((err as Error).message).not.toContain(keyA);
    expect((err as Error).message).not.toContain(keyB);
  });

  it('refuses tampered ciphertext and leaves unencrypted payloads alone', async () => {
    const codec = codecFromEnv({ TEMPORAL_MTURK_CODEC_KEY: keyA })!;
    const [encoded] = await codec.encode([payload('x')]);
    const data = Buffer.from(encoded!.data!);
    data[20] = data[20]! ^ 1;
    await expect(codec.decode([{ ...encoded!, data }])).rejects.toThrow(/failed authentication/);
    const plain = payload('written before encryption was on');
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  it('rejects bad keys without echoing them', () => {
    const short = randomBytes(16).toString('base64');
    expect(() => codecFromEnv({ TEMPORAL_MTURK_CODEC_KEY: short })).toThrow(/32 bytes.*got 16/);
    try {
      codecFromEnv({ TEMPORAL_MTURK_CODEC_KEY: 'not base64 at all!' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/TEMPORAL_MTURK_CODEC_KEY is not valid base64/);
      expect((err as Error).message).not.toContain('not base64 at all');
    }
  });

  it('is off without a key; dataConverterFromEnv then is the default converter', () => {
    expect(codecFromEnv({})).toBeUndefined();
    expect(dataConverterFromEnv({})).toEqual({});
    const on = dataConverterFromEnv({ TEMPORAL_MTURK_CODEC_KEY: keyA }, { encodeFailures: false });
    expect(on.payloadCodecs).toHaveLength(1);
  });
});
