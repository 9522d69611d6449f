import WebSocket from 'ws';
import { compressPayload } from '../src/protocols/binary/compression.js';
import {
  buildPacket,
  parsePacket,
  pixelsOf,
  type Compression,
} from '../src/protocols/binary/packet.js';
import { decompress } from '../test/helpers/binary-client.js';
import { mockFrames } from './pipeline.js';
import { startBenchServer } from './server.js';
import { cpuSeconds, fmt, median, printTable } from './stats.js';

const COMPRESSIONS: Compression[] = ['none', 'lz4', 'zstd'];
const WIDTH = 2048;
const HEIGHT = 2048;

/** Server-side encode (compress + packet) and Node client decode, per frame, in this process. */
async function codecCosts(
  compression: Compression,
): Promise<{ encodeMs: number; bytes: number; decodeMs: number }> {
  const frames = await mockFrames(
    { width: WIDTH, height: HEIGHT, dtype: 'uint16', bit_depth: 12, fps: 100 },
    6,
  );
  const encodeMs: number[] = [];
  const decodeMs: number[] = [];
  const bytes: number[] = [];
  for (let i = 0; i < 18; i++) {
    const f = frames[i % frames.length];
    const raw = Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength);
    const t0 = performance.now();
    const payload = await compressPayload(raw, compression, 1);
    const packet = buildPacket(
      {
        width: f.width,
        height: f.height,
        stride: f.width * 2,
        bitDepth: 12,
        channels: 1,
        pixelFormat: 0,
        timestamp: f.timestamp,
      },
      payload,
      f.frameNumber,
      compression,
    );
    const t1 = performance.now();
    const parsed = parsePacket(packet);
    pixelsOf(parsed, decompress(parsed.payload, compression));
    const t2 = performance.now();
    if (i >= 3) {
      // The first ones warm up the JIT and the thread pool.
      encodeMs.push(t1 - t0);
      decodeMs.push(t2 - t1);
      bytes.push(packet.length);
    }
  }
  return { encodeMs: median(encodeMs), bytes: median(bytes), decodeMs: median(decodeMs) };
}

/** N WebSocket clients that acknowledge every frame; frames per second each, and server CPU. */
async function delivered(
  url: string,
  pid: number,
  clients: number,
  seconds: number,
): Promise<{ fps: number[]; cpu: number }> {
  const counts = new Array<number>(clients).fill(0);
  const sockets = await Promise.all(
    counts.map(
      (_, i) =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(
            `${url.replace('http', 'ws')}/liveview/binary?detectorName=Camera`,
          );
          ws.on('message', (data: Buffer, isBinary) => {
            if (!isBinary) return;
            counts[i]++;
            // The frame number sits in the trailer: 8 bytes after 'UC2X', 12 bytes before the end.
            const frameNumber = Number(data.readBigUInt64LE(data.length - 12));
            ws.send(JSON.stringify({ type: 'ack', frameNumber }));
          });
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        }),
    ),
  );
  await new Promise((r) => setTimeout(r, 1500));
  const start = [...counts];
  const cpu0 = await cpuSeconds(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = (await cpuSeconds(pid)) - cpu0;
  const fps = counts.map((c, i) => (c - start[i]) / elapsed);
  for (const ws of sockets) ws.terminate();
  await new Promise((r) => setTimeout(r, 2500)); // the on-demand stream stops between runs
  return { fps, cpu: (cpu / elapsed) * 100 };
}

/** Benchmarks the binary protocol at 2048x2048 uint16, 30 fps, for each compression. */
export async function benchBinary(runs: number, seconds: number): Promise<void> {
  const rows: string[][] = [];
  for (const compression of COMPRESSIONS) {
    const costs = await codecCosts(compression);
    const server = await startBenchServer(`detectors:
  Camera:
    type: mock
    options: { width: ${WIDTH}, height: ${HEIGHT}, dtype: uint16, bit_depth: 12, fps: 30 }
protocols:
  binary: { throttle_ms: 0, compression: ${compression}, compression_level: 1 }
`);
    try {
      const perClients: string[] = [];
      for (const clients of [1, 10]) {
        const results = [];
        for (let r = 0; r < runs; r++) {
          results.push(await delivered(server.url, server.pid, clients, seconds));
        }
        perClients.push(
          fmt(median(results.map((x) => median(x.fps)))),
          fmt(median(results.map((x) => x.cpu))),
        );
      }
      rows.push([
        compression,
        fmt(costs.encodeMs, 1),
        fmt(costs.bytes / 1e6, 2),
        ...perClients,
        fmt(costs.decodeMs, 1),
      ]);
    } finally {
      await server.stop();
    }
  }
  printTable(
    `binary ${WIDTH}x${HEIGHT} uint16 (12 bit, mock camera at 30 fps, noisy), median of ${runs} runs of ${seconds} s`,
    [
      'compression',
      'encode ms/frame',
      'MB/frame',
      'fps, 1 client',
      'server CPU %, 1',
      'fps per client, 10 clients',
      'server CPU %, 10',
      'Node decode ms/frame',
    ],
    rows,
  );
}
