import type { Request, Response } from 'express';
import type { JsonSchema } from '../core/api-routes.js';
import type { LiveViewController } from '../core/controller.js';
import { hasFeatureAccess, type Detector, type FeatureAccess } from '../core/detector.js';
import { BadRequestError, NotFoundError } from '../core/errors.js';
import { isMapping } from '../core/validation.js';
import type { Logger } from '../core/logger.js';
import { runProtocolHook } from './plugin-hooks.js';
import type { RouteScope } from './openapi/route-scope.js';
import {
  SetStreamParamsBody,
  StartLiveViewBody,
  StopLiveViewBody,
  StreamParamsQuery,
  jsonBody,
} from './requests.js';

/** Where a protocol's params are described in the document. */
const PARAMS_NOTE =
  "`params` are keys of the protocol's params: see `x-liveview-protocol-params` in /openapi.json.";

/** The body of a feature write, checked by the handler (any JSON value). */
const FEATURE_VALUE: JsonSchema = {
  type: 'object',
  properties: { value: { description: 'The new value; for a Command: true.' } },
  required: ['value'],
};

/** The REST liveview API (ImSwitch's names) plus every protocol's own routes, under /liveview. */
export function liveviewRoutes(
  routes: RouteScope,
  controller: LiveViewController,
  logger: Logger,
): void {
  const detectorParam = { name: 'Detector name, as configured' };
  const featureParams = { ...detectorParam, feature: 'GenICam feature name, e.g. ExposureTime' };
  // Starting, stopping and tuning change the instrument for everyone: operators only. Watching
  // and reading need any credential.

  routes.route({
    method: 'post',
    path: '/startLiveView',
    operationId: 'startLiveView',
    summary: 'Starts a stream of a detector over a protocol (or updates its params)',
    description: `Starting a running stream again updates its params. ${PARAMS_NOTE}`,
    role: 'operator',
    body: StartLiveViewBody,
    responses: { 200: 'The stream: detector, protocol, params and the URL a client connects to.' },
    handler: async (_req, res, { body }) => {
      const result = await controller.startLiveView(body);
      res.json({ status: 'success', ...result });
    },
  });

  routes.route({
    method: 'post',
    path: '/stopLiveView',
    operationId: 'stopLiveView',
    summary: "Stops a detector's stream over one protocol, or all of its streams",
    description: 'Without a body: every stream of the default detector.',
    role: 'operator',
    body: StopLiveViewBody,
    responses: { 200: 'The detector and the protocols whose streams stopped.' },
    handler: async (_req, res, { body }) => {
      const detectorName = controller.detectorName(body.detectorName);
      const stopped = await controller.stopLiveView(body);
      res.json({ status: 'success', detectorName, stopped });
    },
  });

  routes.route({
    method: 'get',
    path: '/getActiveStreams',
    operationId: 'getActiveStreams',
    summary: 'The running streams with their params, sessions and counters',
    role: 'viewer',
    responses: { 200: 'The running streams.' },
    handler: (_req, res) => {
      res.json({ status: 'success', streams: controller.getActiveStreams() });
    },
  });

  routes.route({
    method: 'post',
    path: '/setStreamParams',
    operationId: 'setStreamParams',
    summary: "Changes a protocol's default params and those of its running streams",
    description: PARAMS_NOTE,
    role: 'operator',
    body: SetStreamParamsBody,
    responses: { 200: "The protocol's params after the change." },
    handler: (_req, res, { body }) => {
      const params = controller.setStreamParams(body.protocol, body.params);
      res.json({ status: 'success', protocol: body.protocol, params });
    },
  });

  routes.route({
    method: 'get',
    path: '/getStreamParams',
    operationId: 'getStreamParams',
    summary: "A protocol's default params",
    role: 'viewer',
    query: StreamParamsQuery,
    hint: () => `known protocols: ${controller.registry.protocolNames.join(', ')}`,
    responses: { 200: "The protocol's params." },
    handler: (_req, res, { query }) => {
      const { protocol } = query;
      res.json({ status: 'success', protocol, params: controller.getStreamParams(protocol) });
    },
  });

  routes.route({
    method: 'get',
    path: '/protocols',
    summary: 'The protocols with their descriptions and default params',
    role: 'viewer',
    responses: { 200: 'The protocols.' },
    handler: (_req, res) => {
      const protocols = controller.registry.allProtocols().map((p) => ({
        name: p.name,
        description: p.description,
        params: controller.getStreamParams(p.name),
      }));
      res.json({ status: 'success', protocols });
    },
  });

  routes.route({
    method: 'get',
    path: '/detectors',
    summary: 'The configured detectors, the default one, and the devices the plugins find',
    role: 'viewer',
    responses: { 200: 'The detectors.' },
    handler: async (_req, res) => {
      res.json({
        status: 'success',
        defaultDetector: controller.detectors.defaultName,
        detectors: controller.detectors.list(),
        available: await controller.detectors.available(),
      });
    },
  });

  routes.route({
    method: 'get',
    path: '/detectors/:name',
    summary: 'One detector: type, state, info and parameters',
    role: 'viewer',
    pathParams: detectorParam,
    responses: { 200: 'The detector.' },
    handler: (req, res) => {
      res.json({
        status: 'success',
        detector: controller.detectors.describe(req.params.name as string),
      });
    },
  });

  routes.route({
    method: 'post',
    path: '/detectors/:name/parameters',
    summary: "Changes a detector's parameters (exposure, gain, ROI, binning…)",
    description:
      "The keys are the detector's own parameters (GET /liveview/detectors/{name} lists them); unknown keys and out-of-range values are refused.",
    role: 'operator',
    pathParams: detectorParam,
    body: {
      contentType: 'application/json',
      description: 'Parameter names to new values.',
      schema: { type: 'object' },
    },
    responses: { 200: "The detector's parameters after the change." },
    handler: async (req, res) => {
      const detector = controller.detectors.detector(req.params.name as string);
      const values = jsonBody(req);
      if (!isMapping(values)) {
        throw new BadRequestError(
          'request body must be a JSON object of parameter names to values',
        );
      }
      const parameters = await detector.setParameters(values);
      res.json({ status: 'success', detectorName: detector.name, parameters });
    },
  });

  routes.route({
    method: 'get',
    path: '/detectors/:name/features/:feature',
    summary: 'One feature of a detector with a feature tree (GenICam): value, type, limits',
    role: 'viewer',
    pathParams: featureParams,
    responses: { 200: 'The feature.' },
    handler: async (req, res) => {
      const detector = featureDetector(controller, req.params.name as string);
      const feature = await detector.getFeature(req.params.feature as string);
      res.json({ status: 'success', detectorName: detector.name, feature });
    },
  });

  const setFeature = async (req: Request, res: Response) => {
    const detector = featureDetector(controller, req.params.name as string);
    const body = jsonBody(req);
    if (!isMapping(body) || !('value' in body))
      throw new BadRequestError(
        'request body must be a JSON object {"value": …} (for a Command: {"value": true})',
      );
    const feature = await detector.setFeature(req.params.feature as string, body.value);
    res.json({ status: 'success', detectorName: detector.name, feature });
  };
  for (const method of ['put', 'post'] as const) {
    routes.route({
      method,
      path: '/detectors/:name/features/:feature',
      summary: 'Writes one feature of a detector with a feature tree (or runs a Command)',
      role: 'operator',
      pathParams: featureParams,
      body: { contentType: 'application/json', description: 'The value.', schema: FEATURE_VALUE },
      responses: { 200: 'The feature after the write.' },
      handler: setFeature,
    });
  }

  for (const protocol of controller.registry.allProtocols()) {
    if (!protocol.registerRoutes) continue;
    const own = routes.withTag(protocol.name, protocol.description);
    const source = `plugin '${controller.registry.pluginOf(protocol)}', protocol '${protocol.name}'`;
    // Routes are added synchronously; a throwing plugin is logged and the others still register.
    void runProtocolHook(logger, controller.registry, protocol, 'registerRoutes', () =>
      own.adoptPlainRoutes(source, () =>
        protocol.registerRoutes?.(routes.router, controller.hub(protocol), own),
      ),
    );
  }
}

function featureDetector(controller: LiveViewController, name: string): Detector & FeatureAccess {
  const detector = controller.detectors.detector(name);
  if (!hasFeatureAccess(detector))
    throw new NotFoundError(
      `detector '${name}' (type ${detector.type}) has no feature tree; use its parameters instead`,
    );
  return detector;
}
