import 'reflect-metadata';
import { benchMjpegFanout } from './mjpeg-fanout.js';
import { benchPipeline } from './pipeline.js';

/** `npm run bench`: prints the performance tables. `BENCH_RUNS` and `BENCH_SECONDS` scale it. */
const runs = Number(process.env.BENCH_RUNS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);

console.log(`# liveview bench (node ${process.version}, ${runs} runs of ${seconds} s)`);
await benchPipeline(runs, seconds);
await benchMjpegFanout(runs, seconds);
