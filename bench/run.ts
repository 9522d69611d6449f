import 'reflect-metadata';
import { benchBinary } from './binary.js';
import { benchFanout } from './fanout.js';
import { benchGenicam } from './genicam.js';
import { benchGlassToGlass } from './glass-to-glass.js';
import { benchLargeSensor } from './large-sensor.js';
import { benchMjpegFanout } from './mjpeg-fanout.js';
import { benchPipeline } from './pipeline.js';
import { benchRecording } from './recording.js';
import { benchRecordingVideo } from './recording-video.js';
import { benchRelay } from './relay.js';
import { benchV4l2 } from './v4l2.js';
import { benchWebrtc } from './webrtc.js';

/** `npm run bench`: prints the performance tables. `BENCH_RUNS` and `BENCH_SECONDS` scale it; `BENCH_ONLY=pipeline,mjpeg,binary,webrtc,v4l2,genicam,glass,fanout,large,recording,recording-video,relay` picks some. */
const runs = Number(process.env.BENCH_RUNS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const only = process.env.BENCH_ONLY?.split(',');
const wanted = (name: string): boolean => !only || only.includes(name);

console.log(`# liveview bench (node ${process.version}, ${runs} runs of ${seconds} s)`);
if (wanted('pipeline')) await benchPipeline(runs, seconds);
if (wanted('mjpeg')) await benchMjpegFanout(runs, seconds);
if (wanted('binary')) await benchBinary(runs, seconds);
if (wanted('webrtc')) await benchWebrtc(runs, seconds);
if (wanted('v4l2')) await benchV4l2();
if (wanted('genicam')) await benchGenicam(runs, seconds);
if (wanted('glass')) await benchGlassToGlass(runs);
if (wanted('fanout')) await benchFanout(runs);
if (wanted('large')) await benchLargeSensor(runs);
if (wanted('recording')) await benchRecording(runs);
if (wanted('recording-video')) await benchRecordingVideo(runs);
if (wanted('relay')) await benchRelay(runs, seconds);
