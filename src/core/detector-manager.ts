import { inject, injectable } from 'inversify';
import type { Detector, ParameterSpec, ParameterValue } from './detector.js';
import { FrameSource } from './frame-source.js';
import type { ResolvedConfig } from './config.js';
import type { Logger } from './logger.js';
import { ConfigError, NotFoundError, errorMessage } from './errors.js';
import { PluginRegistry } from './registry.js';
import { ConfigToken, LoggerToken } from './tokens.js';

/** What GET /liveview/detectors reports for one detector. */
export interface DetectorListing {
  name: string;
  type: string;
  /** The detector's state, or `stalled` while it runs without delivering frames. */
  state: string;
  error?: string;
  info: Detector['info'];
  parameters: Record<string, ParameterValue>;
  parameterSpecs: ParameterSpec[];
}

/** Creates the configured detectors and owns them and their FrameSources. */
@injectable()
export class DetectorManager {
  private readonly sources = new Map<string, FrameSource>();

  constructor(
    @inject(ConfigToken) private readonly config: ResolvedConfig,
    @inject(PluginRegistry) private readonly registry: PluginRegistry,
    @inject(LoggerToken) private readonly logger: Logger,
  ) {
    const problems: string[] = [];
    for (const entry of config.detectors) {
      const provider = registry.findProvider(entry.type);
      if (!provider) continue; // resolveConfig already reported it
      try {
        const detectorLogger = logger.child({ detector: entry.name });
        const detector = provider.create(entry.name, entry.options, {
          logger: detectorLogger,
          configDir: config.configDir,
        });
        this.sources.set(
          entry.name,
          new FrameSource(detector, detectorLogger, { stallTimeoutMs: entry.stall_timeout_ms }),
        );
      } catch (err) {
        problems.push(`detectors.${entry.name}: cannot create detector: ${errorMessage(err)}`);
      }
    }
    if (problems.length > 0) throw new ConfigError(problems);
  }

  /** Names in config order. */
  get names(): string[] {
    return [...this.sources.keys()];
  }

  /** The default detector: the first configured. */
  get defaultName(): string {
    return this.names[0];
  }

  /** A detector's FrameSource; NotFoundError listing the known ones. */
  source(name: string): FrameSource {
    const source = this.sources.get(name);
    if (!source) {
      throw new NotFoundError(
        `unknown detector '${name}' (known detectors: ${this.names.join(', ')})`,
      );
    }
    return source;
  }

  /** A detector by name; NotFoundError listing the known ones. */
  detector(name: string): Detector {
    return this.source(name).detector;
  }

  /** Every detector for listings. */
  list(): DetectorListing[] {
    return this.names.map((name) => this.describe(name));
  }

  /** One detector for listings. */
  describe(name: string): DetectorListing {
    const source = this.source(name);
    const d = source.detector;
    const problem = source.problem;
    return {
      name,
      type: d.type,
      state: source.status,
      ...(problem ? { error: problem } : {}),
      info: d.info,
      parameters: d.getParameters(),
      parameterSpecs: d.getParameterSpecs(),
    };
  }

  /**
   * Devices that answer now, by detector type, from the providers that can discover (looking
   * where their configured detectors say); a failing provider reports its error instead.
   */
  async available(): Promise<Record<string, Record<string, unknown>[] | { error: string }>> {
    const byType = new Map<string, unknown[]>();
    for (const entry of this.config.detectors)
      byType.set(entry.type, [...(byType.get(entry.type) ?? []), entry.options]);
    const result: Record<string, Record<string, unknown>[] | { error: string }> = {};
    await Promise.all(
      [...byType].map(async ([type, options]) => {
        const provider = this.registry.findProvider(type);
        if (!provider?.discover) return;
        try {
          result[type] = await provider.discover(options);
        } catch (err) {
          result[type] = { error: errorMessage(err) };
        }
      }),
    );
    return result;
  }

  /** Stops and closes every detector. */
  async closeAll(): Promise<void> {
    await Promise.all(
      [...this.sources.values()].map((s) =>
        s.close().catch((err) => this.logger.error({ err }, 'detector close failed')),
      ),
    );
  }
}
