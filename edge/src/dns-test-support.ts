import { createSocket, type RemoteInfo } from 'node:dgram';
import { isIPv6 } from 'node:net';

/**
 * A DNS server for tests that knows only IPv6 addresses: an AAAA query for a known name gets its
 * address, any other query for a known name an empty NOERROR answer, and an unknown name NXDOMAIN.
 * An ACME CA pointed at it can reach a known name over IPv6 only.
 */

export interface DnsQuery {
  name: string;
  type: number;
}

export interface DnsStub {
  port: number;
  /** Every question asked so far, in order. */
  queries: DnsQuery[];
  close(): Promise<void>;
}

export const DNS_TYPE = { A: 1, AAAA: 28 } as const;

const TTL_S = 5;
const FLAG_RESPONSE = 0x8000;
const FLAG_AUTHORITATIVE = 0x0400;
const FLAG_RECURSION_AVAILABLE = 0x0080;
const OPCODE_AND_RECURSION_DESIRED = 0x7900;
const RCODE = { noError: 0, formatError: 1, nameError: 3 } as const;

/** The 16 bytes of an IPv6 address written as text, `::` included. */
export function ipv6Bytes(address: string): Buffer {
  if (!isIPv6(address) || address.includes('.'))
    throw new Error(`${address} is not an IPv6 address in hexadecimal groups`);
  const [head = '', tail] = address.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const missing = 8 - groups(head).length - groups(tail).length;
  const all =
    tail === undefined ? groups(head) : [...groups(head), ...Array<string>(missing).fill('0'), ...groups(tail)];
  const bytes = Buffer.alloc(16);
  all.forEach((group, index) => {
    bytes.writeUInt16BE(Number.parseInt(group, 16), index * 2);
  });
  return bytes;
}

interface Question {
  name: string;
  type: number;
  end: number;
}

/** The first question of a query: its name (labels, lower-cased), its type and where it ends. */
function parseQuestion(message: Buffer): Question | undefined {
  if (message.length < 12 || message.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let offset = 12;
  for (;;) {
    const length = message[offset];
    // A query names its question in full; a compression pointer (top bits set) has nothing to point back to.
    if (length === undefined || length > 63) return undefined;
    offset += 1;
    if (length === 0) break;
    if (offset + length > message.length) return undefined;
    labels.push(message.toString('latin1', offset, offset + length).toLowerCase());
    offset += length;
  }
  if (offset + 4 > message.length) return undefined;
  return { name: labels.join('.'), type: message.readUInt16BE(offset), end: offset + 4 };
}

function header(query: Buffer, rcode: number, questions: number, answers: number): Buffer {
  const bytes = Buffer.alloc(12);
  bytes.writeUInt16BE(query.length >= 2 ? query.readUInt16BE(0) : 0, 0);
  const asked = query.length >= 4 ? query.readUInt16BE(2) : 0;
  bytes.writeUInt16BE(
    FLAG_RESPONSE | (asked & OPCODE_AND_RECURSION_DESIRED) | FLAG_AUTHORITATIVE | FLAG_RECURSION_AVAILABLE | rcode,
    2,
  );
  bytes.writeUInt16BE(questions, 4);
  bytes.writeUInt16BE(answers, 6);
  return bytes;
}

function aaaaRecord(address: Buffer): Buffer {
  const record = Buffer.alloc(12);
  record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's name, which starts at byte 12
  record.writeUInt16BE(DNS_TYPE.AAAA, 2);
  record.writeUInt16BE(1, 4); // class IN
  record.writeUInt32BE(TTL_S, 6);
  record.writeUInt16BE(address.length, 10);
  return Buffer.concat([record, address]);
}

/** The answer to one query, given the IPv6 address of every name this server knows. */
export function answer(query: Buffer, addresses: ReadonlyMap<string, Buffer>): Buffer {
  const question = parseQuestion(query);
  if (!question) return header(query, RCODE.formatError, 0, 0);
  const asked = query.subarray(12, question.end);
  const address = addresses.get(question.name);
  if (!address) return Buffer.concat([header(query, RCODE.nameError, 1, 0), asked]);
  if (question.type !== DNS_TYPE.AAAA) return Buffer.concat([header(query, RCODE.noError, 1, 0), asked]);
  return Buffer.concat([header(query, RCODE.noError, 1, 1), asked, aaaaRecord(address)]);
}

/** Serves `records` (name to IPv6 address) on a free UDP port of 127.0.0.1. */
export async function startDnsStub(records: Record<string, string>): Promise<DnsStub> {
  const addresses = new Map(Object.entries(records).map(([name, address]) => [name.toLowerCase(), ipv6Bytes(address)]));
  const queries: DnsQuery[] = [];
  const socket = createSocket('udp4');
  socket.on('message', (message: Buffer, from: RemoteInfo) => {
    const question = parseQuestion(message);
    if (question) queries.push({ name: question.name, type: question.type });
    socket.send(answer(message, addresses), from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return {
    port: socket.address().port,
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
