/** Token of the ResolvedConfig in the container. */
export const ConfigToken = Symbol.for('liveview.Config');

/** Token of the root Logger in the container. */
export const LoggerToken = Symbol.for('liveview.Logger');
