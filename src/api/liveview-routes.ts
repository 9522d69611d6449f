import { Router, type Request, type Response } from 'express';
import type { LiveViewController } from '../core/controller.js';
import { hasFeatureAccess, type Detector, type FeatureAccess } from '../core/detector.js';
import { BadRequestError, NotFoundError } from '../core/errors.js';
import { requireRole } from '../core/access.js';
import { isMapping } from '../core/validation.js';
import type { Logger } from '../core/logger.js';
import { runProtocolHook } from './plugin-hooks.js';
import {
  SetStreamParamsBody,
  StartLiveViewBody,
  StopLiveViewBody,
  jsonBody,
  parseBody,
} from './requests.js';

/** The REST liveview API (ImSwitch's names) plus every protocol's own routes, under /liveview. */
export function liveviewRouter(controller: LiveViewController, logger: Logger): Router {
  const router = Router();
  // Starting, stopping and tuning change the instrument for everyone: operators only. Watching
  // and reading need any credential (the app's authentication already required one).
  const operator = requireRole('operator');

  router.post('/startLiveView', operator, async (req, res) => {
    const body = parseBody(StartLiveViewBody, jsonBody(req));
    const result = await controller.startLiveView(body);
    res.json({ status: 'success', ...result });
  });

  router.post('/stopLiveView', operator, async (req, res) => {
    const body = parseBody(StopLiveViewBody, jsonBody(req));
    const detectorName = controller.detectorName(body.detectorName);
    const stopped = await controller.stopLiveView(body);
    res.json({ status: 'success', detectorName, stopped });
  });

  router.get('/getActiveStreams', (_req, res) => {
    res.json({ status: 'success', streams: controller.getActiveStreams() });
  });

  router.post('/setStreamParams', operator, (req, res) => {
    const body = parseBody(SetStreamParamsBody, jsonBody(req));
    const params = controller.setStreamParams(body.protocol, body.params);
    res.json({ status: 'success', protocol: body.protocol, params });
  });

  router.get('/getStreamParams', (req, res) => {
    const protocol = req.query.protocol;
    if (typeof protocol !== 'string') {
      throw new BadRequestError(
        `query parameter 'protocol' is required (known protocols: ${controller.registry.protocolNames.join(', ')})`,
      );
    }
    res.json({ status: 'success', protocol, params: controller.getStreamParams(protocol) });
  });

  router.get('/protocols', (_req, res) => {
    const protocols = controller.registry.allProtocols().map((p) => ({
      name: p.name,
      description: p.description,
      params: controller.getStreamParams(p.name),
    }));
    res.json({ status: 'success', protocols });
  });

  router.get('/detectors', async (_req, res) => {
    res.json({
      status: 'success',
      defaultDetector: controller.detectors.defaultName,
      detectors: controller.detectors.list(),
      available: await controller.detectors.available(),
    });
  });

  router.get('/detectors/:name', (req, res) => {
    res.json({ status: 'success', detector: controller.detectors.describe(req.params.name) });
  });

  router.post('/detectors/:name/parameters', operator, async (req, res) => {
    const detector = controller.detectors.detector(req.params.name as string);
    const values = jsonBody(req);
    if (!isMapping(values)) {
      throw new BadRequestError('request body must be a JSON object of parameter names to values');
    }
    const parameters = await detector.setParameters(values);
    res.json({ status: 'success', detectorName: detector.name, parameters });
  });

  router.get('/detectors/:name/features/:feature', async (req, res) => {
    const detector = featureDetector(controller, req.params.name);
    const feature = await detector.getFeature(req.params.feature);
    res.json({ status: 'success', detectorName: detector.name, feature });
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
  router.put('/detectors/:name/features/:feature', operator, setFeature);
  router.post('/detectors/:name/features/:feature', operator, setFeature);

  for (const protocol of controller.registry.allProtocols()) {
    if (!protocol.registerRoutes) continue;
    // Routes are added synchronously; a throwing plugin is logged and the others still register.
    void runProtocolHook(logger, controller.registry, protocol, 'registerRoutes', () =>
      protocol.registerRoutes?.(router, controller.hub(protocol)),
    );
  }
  return router;
}

function featureDetector(controller: LiveViewController, name: string): Detector & FeatureAccess {
  const detector = controller.detectors.detector(name);
  if (!hasFeatureAccess(detector))
    throw new NotFoundError(
      `detector '${name}' (type ${detector.type}) has no feature tree; use its parameters instead`,
    );
  return detector;
}
