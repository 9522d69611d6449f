import { isIPv4 } from 'node:net';
import { ValidateIf } from 'class-validator';
import {
  ConfigError,
  Flag,
  IntegerIn,
  Mapping,
  Text,
  TextList,
  keyPath,
  validateInto,
} from '../../index.js';

/** Options of a `type: genicam` detector (`detectors.<name>.options`). */
export class GenicamOptions {
  /** Camera IPv4 address (default '': find the camera by discovery, see `serial`/`user_name`). */
  @ValidateIf((o: GenicamOptions) => o.address !== '')
  @Text()
  address = '';

  /** GVCP port of the camera (default 3956, the GigE Vision port; another one behind NAT or a relay). */
  @IntegerIn(1, 65535)
  control_port = 3956;

  /** Serial number to pick among discovered cameras (default '': any). */
  @ValidateIf((o: GenicamOptions) => o.serial !== '')
  @Text()
  serial = '';

  /** User-defined name to pick among discovered cameras (default '': any). */
  @ValidateIf((o: GenicamOptions) => o.user_name !== '')
  @Text()
  user_name = '';

  /** Interfaces to broadcast discovery on, e.g. [eth0] (default []: every interface, or none when `address` is set). */
  @TextList()
  interfaces: string[] = [];

  /** Features set at start, by GenICam name, e.g. {ExposureTime: 5000, PixelFormat: Mono16} (default none). */
  @Mapping()
  features: Record<string, unknown> = {};

  /** GVSP packet size in bytes, written to the stream channel (default 0: keep the camera's). */
  @IntegerIn(0, 65000)
  packet_size = 0;

  /** Socket receive buffer for the stream, in bytes (default 33554432 = 32 MiB). */
  @IntegerIn(65536, 1 << 30)
  receive_buffer_bytes = 32 * 1024 * 1024;

  /** Milliseconds after its last packet before an incomplete frame is dropped (default 250). */
  @IntegerIn(10, 10000)
  frame_timeout_ms = 250;

  /** Milliseconds to wait for a missing packet before asking for it again (default 5). */
  @IntegerIn(0, 1000)
  resend_delay_ms = 5;

  /** Bayer formats: deliver RGB (true) or the raw mosaic as gray (false) (default true). */
  @Flag()
  debayer = true;

  /** Milliseconds between heartbeats that keep the control privilege (default 1000). */
  @IntegerIn(100, 60000)
  heartbeat_ms = 1000;

  /** Milliseconds to wait for a control answer before sending again (default 250). */
  @IntegerIn(10, 10000)
  gvcp_timeout_ms = 250;

  /** Milliseconds between attempts to reach a camera that vanished (default 1000). */
  @IntegerIn(100, 60000)
  reconnect_ms = 1000;

  /** Milliseconds to wait for discovery answers (default 500). */
  @IntegerIn(50, 10000)
  discovery_timeout_ms = 500;
}

/** Validates a genicam `options` block; messages name each wrong key under `path`. */
export function parseGenicamOptions(raw: unknown, path: string): GenicamOptions {
  const options = validateInto(GenicamOptions, raw, path);
  const problems: string[] = [];
  if (options.address !== '' && !isIPv4(options.address))
    problems.push(`${keyPath(path, 'address')}: must be an IPv4 address such as 192.168.1.10`);
  for (const [name, value] of Object.entries(options.features)) {
    if (!['number', 'boolean', 'string'].includes(typeof value))
      problems.push(
        `${keyPath(path, `features.${name}`)}: must be a number, true/false or an enumeration entry`,
      );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return options;
}
