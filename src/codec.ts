/**
 * Optional payload encryption: workflow inputs and results (worker IDs, reasons, feedback) are
 * stored by Temporal Server; with this codec they are stored as AES-256-GCM ciphertext that
 * only holders of the key can read.
 *
 * The format is the one of Temporal's encryption samples (TypeScript, Go, Python), so a codec
 * server or a client in another language can use their code unchanged:
 * - metadata `encoding: binary/encrypted`, `encryption-key-id: <key id>`;
 * - data = 12-byte IV ‖ ciphertext ‖ 16-byte GCM tag, where the plaintext is the original
 *   `temporal.api.common.v1.Payload` message, serialised as protobuf.
 *
 * Keys come from the environment (see {@link codecFromEnv}); every payload names its key, so
 * keys can be rotated while old histories stay readable.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import {
  ValueError,
  type DataConverter,
  type Payload,
  type PayloadCodec,
} from '@temporalio/common';
import protobuf from 'protobufjs';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** `temporal.api.common.v1.Payload` (fields 1 and 2), defined here so we need no proto package. */
const PayloadMessage = new protobuf.Type('Payload')
  .add(new protobuf.MapField('metadata', 1, 'string', 'bytes'))
  .add(new protobuf.Field('data', 2, 'bytes'));
new protobuf.Root().define('temporal.api.common.v1').add(PayloadMessage);

export interface CodecKey {
  /** Stored in every payload's metadata: not secret, must be unique per key. */
  id: string;
  /** 32 bytes. */
  key: Uint8Array;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** A key ID derived from the key, so equal keys get equal IDs without configuring any. */
export function deriveKeyId(key: Uint8Array): string {
  return `tm-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

/**
 * Parses a base64 key of 32 bytes. Error messages say what is wrong, never the key itself:
 * they end up in logs.
 */
export function codecKeyFromBase64(base64: string, id?: string, name = 'codec key'): CodecKey {
  const text = base64.trim();
  const key = Buffer.from(text, 'base64');
  const canonical = key.toString('base64').replace(/=+$/, '');
  if (text.length === 0 || canonical !== text.replace(/=+$/, '')) {
    throw new ValueError(`${name} is not valid base64 (expected 32 random bytes, base64-encoded)`);
  }
  if (key.length !== KEY_BYTES) {
    throw new ValueError(`${name} must be ${KEY_BYTES} bytes (AES-256), got ${key.length}`);
  }
  return { id: id ?? deriveKeyId(key), key };
}

export interface AesGcmCodecOptions {
  /** Encrypts every new payload. */
  current: CodecKey;
  /** Only decrypt: keys of older payloads, kept while their histories are still read. */
  previous?: CodecKey[];
}

export class AesGcmPayloadCodec implements PayloadCodec {
  readonly keyId: string;
  private readonly current: CodecKey;
  private readonly byId = new Map<string, CodecKey>();

  constructor(options: AesGcmCodecOptions) {
    for (const k of [options.current, ...(options.previous ?? [])]) {
      if (k.key.length !== KEY_BYTES) {
        throw new ValueError(`codec key ${k.id} must be ${KEY_BYTES} bytes, got ${k.key.length}`);
      }
      if (this.byId.has(k.id)) throw new ValueError(`codec key ID ${k.id} is used twice`);
      this.byId.set(k.id, k);
    }
    this.current = options.current;
    this.keyId = options.current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const plaintext = PayloadMessage.encode(
        PayloadMessage.fromObject({ metadata: payload.metadata ?? {}, data: payload.data ?? [] }),
      ).finish();
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(ALGORITHM, this.current.key, iv);
      const data = Buffer.concat([
        iv,
        cipher.update(plaintext),
        cipher.final(),
        cipher.getAuthTag(),
      ]);
      return {
        metadata: {
          encoding: utf8.encode(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA]: utf8.encode(this.current.id),
        },
        data,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding;
      // Payloads written before encryption was turned on stay readable.
      if (!encoding || fromUtf8.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
      const rawId = payload.metadata?.[KEY_ID_METADATA];
      if (!rawId) throw new ValueError('encrypted payload has no encryption-key-id');
      const id = fromUtf8.decode(rawId);
      const key = this.byId.get(id);
      if (!key) {
        throw new ValueError(
          `payload was encrypted with key ${id}, which is not configured (have ${[...this.byId.keys()].join(', ')}); ` +
            'add it to TEMPORAL_MTURK_CODEC_PREVIOUS_KEYS',
        );
      }
      const data = payload.data ?? new Uint8Array();
      if (data.length < IV_BYTES + TAG_BYTES)
        throw new ValueError('encrypted payload is truncated');
      const decipher = createDecipheriv(ALGORITHM, key.key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plaintext: Buffer;
      try {
        plaintext = Buffer.concat([
          decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
          decipher.final(),
        ]);
      } catch {
        throw new ValueError(`encrypted payload failed authentication with key ${id}`);
      }
      const decoded = PayloadMessage.decode(plaintext) as unknown as Payload;
      return { metadata: decoded.metadata ?? {}, data: decoded.data ?? new Uint8Array() };
    });
  }
}

/**
 * The codec configured by the environment, or undefined when encryption is off:
 * - `TEMPORAL_MTURK_CODEC_KEY`: base64 of 32 random bytes (`openssl rand -base64 32`).
 * - `TEMPORAL_MTURK_CODEC_KEY_ID`: optional ID of that key (default derived from the key).
 * - `TEMPORAL_MTURK_CODEC_PREVIOUS_KEYS`: optional, comma-separated `[id=]base64` keys that
 *   only decrypt, for rotation.
 */
export function codecFromEnv(env: NodeJS.ProcessEnv = process.env): AesGcmPayloadCodec | undefined {
  const current = env.TEMPORAL_MTURK_CODEC_KEY?.trim();
  if (!current) return undefined;
  const previous = (env.TEMPORAL_MTURK_CODEC_PREVIOUS_KEYS ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry, i) => {
      const eq = entry.indexOf('=');
      // base64 may end in "=", so only a "=" before any base64 padding separates an ID.
      const hasId = eq > 0 && !/^=*$/.test(entry.slice(eq));
      const name = `TEMPORAL_MTURK_CODEC_PREVIOUS_KEYS entry ${i + 1}`;
      return hasId
        ? codecKeyFromBase64(entry.slice(eq + 1), entry.slice(0, eq), name)
        : codecKeyFromBase64(entry, undefined, name);
    });
  return new AesGcmPayloadCodec({
    current: codecKeyFromBase64(
      current,
      env.TEMPORAL_MTURK_CODEC_KEY_ID?.trim() || undefined,
      'TEMPORAL_MTURK_CODEC_KEY',
    ),
    previous,
  });
}

export interface DataConverterFromEnvOptions {
  /**
   * Also encrypt failure messages and stack traces (they can quote IDs). Needs the compiled
   * `failure-converter` module beside this one, so turn it off only where modules cannot be
   * required by path (e.g. tests that run TypeScript without a loader). Default true.
   */
  encodeFailures?: boolean;
}

/**
 * The DataConverter for Client and Worker alike: encryption when TEMPORAL_MTURK_CODEC_KEY is
 * set, Temporal's default otherwise. Give the same one to every client and worker of the
 * namespace: a client without it cannot read what an encrypting worker wrote.
 */
export function dataConverterFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  options: DataConverterFromEnvOptions = {},
): DataConverter {
  const codec = codecFromEnv(env);
  if (!codec) return {};
  return {
    payloadCodecs: [codec],
    ...(options.encodeFailures !== false && {
      failureConverterPath: require.resolve('./failure-converter'),
    }),
  };
}
