import { expect } from 'chai';
import sinon from 'sinon';
import { startServer, type LiveViewServer } from '../../src/api/server.js';
import { LiveViewController } from '../../src/core/controller.js';
import { DetectorManager } from '../../src/core/detector-manager.js';
import type { AnyStreamWorker } from '../../src/core/stream-worker.js';
import type { ProtocolContext } from '../../src/core/protocol.js';
import { BinaryProtocol } from '../../src/protocols/binary/protocol.js';
import { WebrtcProtocol } from '../../src/protocols/webrtc/protocol.js';
import { FIXTURES_DIR, startTestServer, waitFor } from '../helpers/server.js';

/** Counts of the active handles of a kind (TCP servers, sockets, timers). */
function handles(kind: string): number {
  return process.getActiveResourcesInfo().filter((r) => r === kind).length;
}

describe('startServer when listen fails', function () {
  this.timeout(20_000);
  let first: LiveViewServer;

  before(async () => {
    first = await startTestServer(`
detectors:
  Camera: { type: mock, options: { width: 64, height: 48, fps: 30 } }
`);
  });
  afterEach(() => sinon.restore());
  after(async () => {
    await first?.stop();
  });

  it('rejects naming host and port and leaves nothing running', async () => {
    const closeAll = sinon.spy(DetectorManager.prototype, 'closeAll');
    const stopAll = sinon.spy(LiveViewController.prototype, 'stopAll');
    const binaryClose = sinon.spy(BinaryProtocol.prototype, 'close');
    const webrtcClose = sinon.spy(WebrtcProtocol.prototype, 'close');
    // A protocol that starts a stream while attaching: the detector is acquiring when listen fails.
    const attach = BinaryProtocol.prototype.attach;
    let held: AnyStreamWorker | undefined;
    sinon.stub(BinaryProtocol.prototype, 'attach').callsFake(async function (
      this: BinaryProtocol,
      context: ProtocolContext,
    ) {
      attach.call(this, context as Parameters<typeof attach>[0]);
      held = await context.hub.ensure('Camera');
    });
    const tcpServers = handles('TCPServerWrap');
    const tcpSockets = handles('TCPSocketWrap');

    const port = first.port;
    const err = await startServer({
      configText: `
detectors:
  Camera: { type: mock, options: { width: 64, height: 48, fps: 30 } }
  Other: { type: mock, options: { width: 64, height: 48, fps: 30 } }
`,
      configDir: FIXTURES_DIR,
      port,
      host: '127.0.0.1',
      logLevel: 'silent',
    }).then(
      async (server) => {
        await server.stop();
        throw new Error('the second server listened on a taken port');
      },
      (e: unknown) => e as Error,
    );
    expect(err.message).to.match(
      new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`),
    );

    // The stream that was running stopped, the protocols closed, the detectors closed.
    expect(held, 'the stream started before listen').to.not.equal(undefined);
    expect(held!.running).to.equal(false);
    expect(stopAll.callCount).to.equal(1);
    const controller = stopAll.firstCall.thisValue as LiveViewController;
    expect(controller.getActiveStreams()).to.deep.equal([]);
    expect(binaryClose.callCount).to.equal(1);
    expect(webrtcClose.callCount).to.equal(1);
    expect(closeAll.callCount).to.equal(1);
    const manager = closeAll.firstCall.thisValue as DetectorManager;
    expect(manager.names.map((n) => [n, manager.detector(n).state])).to.deep.equal([
      ['Camera', 'closed'],
      ['Other', 'closed'],
    ]);
    // No listening socket or connection left behind by the failed start (a handle Node closed
    // after the failed listen leaves the list a moment later).
    await waitFor(() => handles('TCPServerWrap') === tcpServers, 1000);
    expect(handles('TCPSocketWrap')).to.be.at.most(tcpSockets);

    // The first server is untouched.
    const res = await fetch(`${first.url}/health`);
    expect(res.status).to.equal(200);
  });
});
