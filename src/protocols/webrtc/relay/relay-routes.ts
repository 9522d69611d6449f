import {
  BadRequestError,
  ConfigError,
  LiveViewError,
  RELAY_NAME,
  isMapping,
  parseRelayConfig,
  type ApiRoutes,
} from '../../../index.js';
import type { RelayManager } from './relay-manager.js';

/** What a relay body looks like, for the API document. */
const RELAY_BODY_SCHEMA = {
  type: 'object',
  required: ['name', 'detector'],
  properties: {
    name: { type: 'string', pattern: RELAY_NAME.source },
    detector: { type: 'string' },
    codec: { enum: ['H264', 'VP8'], default: 'H264' },
    janus: { type: 'object', description: 'As `relays.<name>.janus` in the config file.' },
    whip: { type: 'object', description: 'As `relays.<name>.whip` in the config file.' },
  },
};

/**
 * `/liveview/relays`: list the relays with their status, add one (as a `relays:` entry of the
 * config file, plus its `name`), remove one. Changes need the admin role: a relay sends a
 * detector's video to another machine.
 */
export function registerRelayRoutes(routes: ApiRoutes, relays: () => RelayManager): void {
  routes.route({
    method: 'get',
    path: '/relays',
    summary: 'The relays (Janus, WHIP) with their state, packets and bytes sent and viewers',
    role: 'viewer',
    responses: { 200: '`relays`: the status of each relay.' },
    handler: (_req, res) => {
      res.json({ status: 'success', relays: relays().list() });
    },
  });

  routes.route({
    method: 'post',
    path: '/relays',
    summary: 'Starts a relay of a detector’s WebRTC stream to Janus servers or a WHIP endpoint',
    description:
      'The body is a `relays:` entry of the config file with its `name` beside it. The relay runs until DELETEd or the server stops (it is not written to the config file).',
    role: 'admin',
    body: {
      contentType: 'application/json',
      description: 'name, detector, codec and one of janus / whip.',
      schema: RELAY_BODY_SCHEMA,
    },
    responses: { 201: '`relay`: the new relay’s status.' },
    handler: (req, res) => {
      if (!req.is('application/json')) {
        throw new LiveViewError(
          `request body must be JSON: send Content-Type: application/json (got ${req.get('content-type') ?? 'none'})`,
          415,
        );
      }
      const body: unknown = req.body;
      if (!isMapping(body)) throw new BadRequestError('the body must be a JSON object');
      const { name, ...entry } = body;
      if (typeof name !== 'string' || !RELAY_NAME.test(name)) {
        throw new BadRequestError(
          "name: must be 1 to 64 letters, digits, '_', '-' or '.' (the relay's name)",
        );
      }
      let config;
      try {
        config = parseRelayConfig(entry, '');
      } catch (err) {
        if (err instanceof ConfigError) {
          throw new BadRequestError(err.problems.map((p) => p.replace(/^\.|^: /, '')).join('; '));
        }
        throw err;
      }
      res.status(201).json({ status: 'success', relay: relays().add({ name, config }) });
    },
  });

  routes.route({
    method: 'delete',
    path: '/relays/:name',
    summary: 'Stops a relay (its Janus mountpoints destroyed, its WHIP session deleted)',
    role: 'admin',
    pathParams: { name: 'The relay’s name' },
    responses: { 200: 'Stopped.' },
    handler: async (req, res) => {
      await relays().remove(req.params.name as string);
      res.json({ status: 'success' });
    },
  });
}
