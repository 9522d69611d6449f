import { IntegerIn, Text } from './validation.js';

/**
 * `server.tls:` HTTPS and WSS on the server's port. The files are read (and checked) when the
 * server starts and again whenever they change or the process gets SIGHUP.
 */
export class TlsConfig {
  /** PEM certificate file, intermediates after it (e.g. certbot's fullchain.pem); relative to the config file's folder (required). */
  @Text()
  cert!: string;

  /** PEM private key file of that certificate, not encrypted; relative to the config file's folder (required). */
  @Text()
  key!: string;

  /** Plain-HTTP port on the same host that answers every request with a 308 redirect to HTTPS (default 0: off). */
  @IntegerIn(0, 65535)
  redirect_port = 0;
}
