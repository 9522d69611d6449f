import type { JsonSchema } from '../../core/api-routes.js';
import { IMSWITCH_PROTOCOLS } from './params.js';

/*
 * The answers of ImSwitch's live-view API as JSON Schemas, for GET /openapi.json. They describe
 * what the routes send (ImSwitch's shapes, some without `status`), they validate nothing.
 */

/** An ImSwitch protocol name. */
const PROTOCOL: JsonSchema = { type: 'string', enum: [...IMSWITCH_PROTOCOLS] };

/** A detector name. */
const DETECTOR: JsonSchema = { type: 'string', description: 'Detector name.' };

/** A list of detector names. */
const DETECTORS: JsonSchema = { type: 'array', items: { type: 'string' } };

/** ImSwitch's `StreamParams.to_dict()`: stream params by ImSwitch's names. */
export const PARAMS_DICT: JsonSchema = {
  type: 'object',
  description:
    "Stream params by ImSwitch's names (its StreamParams.to_dict()); keys that do not apply to the protocol carry ImSwitch's defaults.",
  properties: {
    detector_name: { type: ['string', 'null'] },
    protocol: PROTOCOL,
    compression_algorithm: { type: 'string' },
    compression_level: { type: 'integer' },
    subsampling_factor: { type: 'integer' },
    throttle_ms: { type: 'integer' },
    crop_size: { type: 'integer' },
    jpeg_quality: { type: 'integer' },
    stun_servers: { type: 'array' },
    turn_servers: { type: 'array' },
    max_width: { type: 'integer' },
    broadcast_frames: { type: 'boolean' },
  },
};

/** The refusal of a start at a long exposure (startLiveView, mjpeg_stream, webrtc_offer). */
const LONG_EXPOSURE: JsonSchema = {
  type: 'object',
  description:
    'The exposure is above the threshold: nothing started; startLiveView with force=true starts anyway.',
  properties: {
    status: { const: 'long_exposure' },
    detector: DETECTOR,
    protocol: PROTOCOL,
    exposureMs: { type: 'number' },
    thresholdMs: { type: 'number' },
    message: { type: 'string' },
  },
  required: ['status', 'detector', 'protocol', 'exposureMs', 'thresholdMs', 'message'],
};

/** startLiveView's answer. */
export const START_ANSWER: JsonSchema = {
  oneOf: [
    {
      type: 'object',
      description:
        'Started (`success`), or it was running and the given params were applied (`already_running`).',
      properties: {
        status: { enum: ['success', 'already_running'] },
        detector: DETECTOR,
        protocol: PROTOCOL,
        params: PARAMS_DICT,
        message: { type: 'string' },
      },
      required: ['status', 'detector', 'protocol', 'params'],
    },
    LONG_EXPOSURE,
  ],
};

/** stopLiveView's answer. */
export const STOP_ANSWER: JsonSchema = {
  type: 'object',
  description:
    '`success` names the detector, the first protocol stopped and all of them; `not_running` says that nothing was active.',
  properties: {
    status: { enum: ['success', 'not_running'] },
    detector: DETECTOR,
    protocol: PROTOCOL,
    protocols: { type: 'array', items: PROTOCOL },
    message: { type: 'string' },
  },
  required: ['status'],
};

/** getLiveViewActive's answer: a bare boolean, which ImSwitch's web app checks. */
export const LIVE_VIEW_ACTIVE: JsonSchema = {
  type: 'boolean',
  description: 'Whether any ImSwitch stream is active (a bare boolean, not an object).',
};

/** getActiveStreams's answer. */
export const ACTIVE_STREAMS: JsonSchema = {
  type: 'object',
  properties: {
    status: { const: 'success' },
    active_streams: {
      type: 'array',
      items: {
        type: 'object',
        properties: { detector: DETECTOR, protocol: PROTOCOL },
        required: ['detector', 'protocol'],
      },
    },
  },
  required: ['status', 'active_streams'],
};

/** getStreamParameters's answer, for one protocol or for all. */
export const STREAM_PARAMETERS: JsonSchema = {
  type: 'object',
  description:
    'With `protocol`: its params, `active_detectors` and `is_active`. Without: `protocols` (each with its params, active detectors and is_active), `current_active_protocols` by detector, `current_protocol`, `total_active_streams` and `per_detector` (the params each detector last streamed with).',
  properties: {
    status: { const: 'success' },
    protocol: PROTOCOL,
    params: PARAMS_DICT,
    active_detectors: DETECTORS,
    is_active: { type: 'boolean' },
    current_active_protocols: { type: 'object', additionalProperties: PROTOCOL },
    current_protocol: { oneOf: [PROTOCOL, { type: 'null' }] },
    total_active_streams: { type: 'integer' },
    protocols: { type: 'object' },
    per_detector: { type: 'object', additionalProperties: PARAMS_DICT },
  },
  required: ['status'],
};

/** setStreamParameters's answer. */
export const SET_STREAM_PARAMETERS: JsonSchema = {
  type: 'object',
  properties: {
    status: { const: 'success' },
    protocol: PROTOCOL,
    params: PARAMS_DICT,
    updated_detectors: { ...DETECTORS, description: 'The running streams that changed live.' },
    message: { type: 'string' },
  },
  required: ['status', 'protocol', 'params', 'message'],
};

/** setDetectorStreamParameters's answer. */
export const SET_DETECTOR_PARAMETERS: JsonSchema = {
  type: 'object',
  properties: {
    status: { const: 'success' },
    detector: DETECTOR,
    params: PARAMS_DICT,
    restarted: { const: false, description: 'liveview changes params without a restart.' },
    updated_live: { const: true, description: 'Present when a running stream changed.' },
  },
  required: ['status', 'detector', 'params', 'restarted'],
};

/** getLongExposureInfo's answer (no `status`, as in ImSwitch). */
export const LONG_EXPOSURE_INFO: JsonSchema = {
  type: 'object',
  properties: {
    detector: DETECTOR,
    exposureMs: { type: 'number', description: 'Its exposure in ms (0 when unknown).' },
    thresholdMs: { type: 'number' },
    isLongExposure: { type: 'boolean' },
  },
  required: ['detector', 'exposureMs', 'thresholdMs', 'isLongExposure'],
};

/** webrtc_offer's answer: the webrtc protocol's, or the long-exposure refusal. */
export const OFFER_ANSWER: JsonSchema = {
  oneOf: [
    {
      type: 'object',
      properties: {
        status: { const: 'success' },
        sdp: { type: 'string', description: 'The SDP answer.' },
        type: { const: 'answer' },
        iceServers: { type: 'array' },
        expiresAt: { description: 'When TURN credentials expire, if any.' },
      },
      required: ['status', 'sdp', 'type'],
    },
    LONG_EXPOSURE,
  ],
};

/** getDetectorNames's answer: a bare array. */
export const DETECTOR_NAMES: JsonSchema = { ...DETECTORS, description: 'The detector names.' };

/** version's answer. */
export const VERSION_ANSWER: JsonSchema = {
  type: 'object',
  properties: { version: { type: 'string' }, server: { const: 'liveview' } },
  required: ['version', 'server'],
};
