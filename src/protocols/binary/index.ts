import { ContainerModule, PLUGIN_API_VERSION, Protocol, definePlugin } from '../../index.js';
import { BinaryProtocol } from './protocol.js';

export * from './packet.js';
export { BinaryParams } from './params.js';
export { BinaryProtocol, BINARY_PATH, MAX_CLIENT_MESSAGE_BYTES } from './protocol.js';

/** The built-in binary protocol plugin. */
export default definePlugin({
  name: 'binary',
  apiVersion: PLUGIN_API_VERSION,
  module: new ContainerModule(({ bind }) => {
    bind(BinaryProtocol).toSelf().inSingletonScope();
    bind(Protocol).toService(BinaryProtocol);
  }),
});
