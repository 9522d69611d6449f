import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  MediaStreamTrack,
  RTCPeerConnection,
  RTCRtpHeaderExtensionParameters,
  RtcpRrPacket,
  useAbsSendTime,
  useH264,
  useNACK,
  usePLI,
  useREMB,
  useSdesMid,
  useVP8,
  type CipherContext,
  type PeerConfig,
  type RTCDtlsTransport,
  type RTCRtpSender,
  type RtcpPacket,
} from 'werift';
import { BadRequestError, errorMessage } from '../../index.js';
import { disableDefaultStunServer } from './no-default-stun.js';
import type { VideoCodec, WebrtcParams } from './params.js';
import { PLAYOUT_DELAY_URI } from './rtp-sender.js';

disableDefaultStunServer();

/** Milliseconds to wait for ICE gathering before answering with what was gathered. */
const GATHER_TIMEOUT_MS = 5000;
/** Constrained baseline, packetization mode 1: what every browser decodes in hardware or software. */
const H264_FMTP = 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1';

/** The codecs a browser's offer accepts for video, in the offer's order. */
export function offeredVideoCodecs(sdp: string): VideoCodec[] {
  const video = sdp
    .split(/\r?\nm=/)
    .find((section) => section.startsWith('video') || section.startsWith('m=video'));
  if (!video) return [];
  const found: VideoCodec[] = [];
  for (const m of video.matchAll(/a=rtpmap:(\d+) (VP8|H264)\/90000/gi)) {
    const name = m[2].toUpperCase() as VideoCodec;
    if (name === 'H264') {
      // Only packetization mode 1 (FU-A) is what we send.
      const fmtp = new RegExp(`a=fmtp:${m[1]} ([^\\r\\n]*)`).exec(video)?.[1] ?? '';
      if (!/packetization-mode=1/.test(fmtp)) continue;
    }
    if (!found.includes(name)) found.push(name);
  }
  return found;
}

/** What an offer needs for ICE and DTLS to ever connect. */
const REQUIRED_ATTRIBUTES = [
  ['fingerprint', 'the DTLS certificate fingerprint'],
  ['ice-ufrag', 'the ICE username fragment'],
  ['ice-pwd', 'the ICE password'],
] as const;

/**
 * Checks an SDP offer enough to give a clear message (SDP text, a video section, and the DTLS and
 * ICE attributes without which it can never connect); throws BadRequestError.
 */
export function checkOffer(sdp: unknown): string {
  if (typeof sdp !== 'string' || !sdp.startsWith('v=0')) {
    throw new BadRequestError('malformed SDP offer: it must be SDP text starting with "v=0"');
  }
  if (!/\r?\nm=video /.test(sdp)) {
    throw new BadRequestError(
      'the SDP offer has no video section (m=video): add a video transceiver (recvonly)',
    );
  }
  for (const [attribute, what] of REQUIRED_ATTRIBUTES) {
    if (!new RegExp(`^a=${attribute}:[^\\S\\r\\n]*\\S`, 'm').test(sdp)) {
      throw new BadRequestError(
        `the SDP offer has no a=${attribute} (${what}) at session or media level, so it could ` +
          'never connect: send the offer of an RTCPeerConnection after setLocalDescription, unchanged',
      );
    }
  }
  return sdp;
}

/** Picks the stream's preferred codec if the offer has it, else another it has. */
export function chooseCodec(sdp: string, preferred: VideoCodec): VideoCodec {
  const offered = offeredVideoCodecs(sdp);
  if (offered.includes(preferred)) return preferred;
  if (offered.length > 0) return offered[0];
  throw new BadRequestError(
    'the SDP offer accepts neither VP8 nor H.264 (packetization-mode=1) video',
  );
}

/**
 * ICE servers of the server's own peer, as RTCIceServer objects: the STUN servers and the TURN
 * servers with static credentials. TURN servers with a `secret` are for viewers only: a viewer's
 * relay candidate reaches the server's host (or STUN) candidate through the TURN server, so the
 * server needs no relay of its own, and gathering one would delay every (non-trickle) answer.
 */
export function iceServersOf(params: WebrtcParams): PeerConfig['iceServers'] {
  return [
    ...params.stun_servers.map((urls) => ({ urls })),
    ...params.turn_servers
      .filter((t) => t.secret === undefined)
      .flatMap((t) =>
        t.urls.map((urls) => ({ urls, username: t.username, credential: t.credential })),
      ),
  ];
}

/** What answering an offer made: the peer, its sending track and the answer. */
export interface AnsweredPeer {
  pc: RTCPeerConnection;
  track: MediaStreamTrack;
  sender: import('werift').RTCRtpSender;
  receiver: import('werift').RTCRtpReceiver;
  codec: VideoCodec;
  answer: string;
}

/** Creates a send-only peer for an offer and answers it once ICE gathering is complete (non-trickle). */
export async function answerOffer(offerSdp: string, params: WebrtcParams): Promise<AnsweredPeer> {
  const codec = chooseCodec(offerSdp, params.codec);
  const hostAddresses = params.ice_host_addresses;
  const pc = createSendingPeer(codec, params, iceServersOf(params) ?? []);
  try {
    try {
      const remoteAllowed = params.ice_remote_addresses;
      const offer = remoteAllowed.length > 0 ? onlyCandidatesOn(offerSdp, remoteAllowed) : offerSdp;
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    } catch (err) {
      throw new BadRequestError(`malformed SDP offer: ${errorMessage(err)}`);
    }
    const transceiver = pc.getTransceivers().find((t) => t.kind === 'video');
    if (!transceiver) throw new BadRequestError('the SDP offer has no usable video section');
    const track = new MediaStreamTrack({ kind: 'video' });
    transceiver.setDirection('sendonly');
    await transceiver.sender.replaceTrack(track);
    await pc.setLocalDescription(await pc.createAnswer());
    const answer = await gatheredDescription(pc, hostAddresses);
    return {
      pc,
      track,
      sender: transceiver.sender,
      receiver: transceiver.receiver,
      codec,
      answer,
    };
  } catch (err) {
    await pc.close().catch(() => undefined);
    throw err;
  }
}

/**
 * A peer that sends one video track in `codec` (NACK, PLI and REMB feedback; mid,
 * abs-send-time and playout-delay extensions), ICE on the stream's host addresses (loopback
 * added when none are set) with `iceServers`: the one setup of a viewer's peer and a WHIP
 * publisher's.
 */
export function createSendingPeer(
  codec: VideoCodec,
  params: WebrtcParams,
  iceServers: RTCIceServer[],
): RTCPeerConnection {
  const hostAddresses = params.ice_host_addresses;
  const feedback = [useNACK(), usePLI(), useREMB()];
  return new RTCPeerConnection({
    iceServers,
    // Loopback is not gathered by default; a peer on the same machine needs it.
    iceAdditionalHostAddresses: hostAddresses.length > 0 ? hostAddresses : ['127.0.0.1'],
    ...(hostAddresses.length > 0
      ? { iceInterfaceAddresses: { udp4: hostAddresses[0] }, iceUseIpv6: false, iceUseTcp: false }
      : {}),
    bundlePolicy: 'max-bundle',
    codecs: {
      video: [
        codec === 'VP8'
          ? useVP8({ rtcpFeedback: feedback })
          : useH264({ rtcpFeedback: feedback, parameters: H264_FMTP }),
      ],
    },
    // abs-send-time feeds the far end's bandwidth estimate (REMB); playout-delay 0/0 asks it to
    // render each frame as soon as it is decoded. Each only if the other side has it.
    headerExtensions: {
      video: [
        useSdesMid(),
        useAbsSendTime(),
        new RTCRtpHeaderExtensionParameters({ uri: PLAYOUT_DELAY_URI }),
      ],
    },
  });
}

/** The local description once ICE gathering is complete (or timed out), with candidates on `hostAddresses` only when given. */
export async function gatheredDescription(
  pc: RTCPeerConnection,
  hostAddresses: string[],
): Promise<string> {
  await gathered(pc);
  const sdp = pc.localDescription?.sdp ?? '';
  return hostAddresses.length > 0 ? onlyCandidatesOn(sdp, hostAddresses) : sdp;
}

function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, GATHER_TIMEOUT_MS);
    pc.iceGatheringStateChange.subscribe((state) => {
      if (state === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

/** Drops candidates on other addresses (werift lists every interface even when bound to one). */
export function onlyCandidatesOn(sdp: string, addresses: string[]): string {
  return sdp
    .split('\r\n')
    .filter((line) => {
      const m = /^a=candidate:\S+ \d+ \S+ \d+ (\S+) /.exec(line);
      return !m || addresses.includes(m[1]);
    })
    .join('\r\n');
}

/** How long telling a viewer goodbye may take before the peer is closed anyway. */
const GOODBYE_TIMEOUT_MS = 1000;
/** How long closing a peer may take before a shutdown goes on without it. */
const CLOSE_TIMEOUT_MS = 2000;

/**
 * Tells a connected viewer that its peer closes, then closes it, so that the viewer notices at
 * once instead of after ICE consent expires (about 30 s): an RTCP BYE for the video (RFC 3550),
 * an SCTP ABORT that closes its data channels, and a DTLS close_notify alert (RFC 6347), each
 * sent before the sockets close. werift's `close()` alone sends only the ABORT, and races the
 * socket close with it.
 */
export async function closePeer(
  pc: RTCPeerConnection,
  sender: RTCRtpSender,
  reason: string,
): Promise<void> {
  if (pc.connectionState === 'connected') {
    await within(GOODBYE_TIMEOUT_MS, sayGoodbye(pc, sender, reason));
  }
  await within(CLOSE_TIMEOUT_MS, pc.close());
}

/** Waits for `promise` (its failure ignored), at most `ms`. */
async function within(ms: number, promise: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([promise.catch(() => undefined), timeout]);
  clearTimeout(timer);
}

async function sayGoodbye(pc: RTCPeerConnection, sender: RTCRtpSender, reason: string) {
  const dtls = sender.dtlsTransport;
  if (dtls?.state !== 'connected') return;
  await dtls.sendRtcp([
    new RtcpRrPacket({ ssrc: sender.ssrc, reports: [] }),
    rtcpBye(sender.ssrc, reason),
  ]);
  await pc.sctpTransport?.stop();
  // werift's UDP sends do not wait for the socket: give each a turn before the next step.
  await nextTurn();
  await sendCloseNotify(dtls);
  await nextTurn();
}

/** An RTCP BYE packet (RFC 3550 section 6.6) for one source, with a reason. */
export function rtcpBye(ssrc: number, reason: string): RtcpPacket {
  const text = Buffer.from(reason.slice(0, 255), 'utf8').subarray(0, 255);
  const length = 8 + (text.length > 0 ? Math.ceil((1 + text.length) / 4) * 4 : 0);
  const packet = Buffer.alloc(length);
  packet.writeUInt8(0x81, 0); // version 2, no padding, one source
  packet.writeUInt8(203, 1);
  packet.writeUInt16BE(length / 4 - 1, 2);
  packet.writeUInt32BE(ssrc >>> 0, 4);
  if (text.length > 0) {
    packet.writeUInt8(text.length, 8);
    text.copy(packet, 9);
  }
  // werift has no BYE class; its sendRtcp only calls serialize().
  return { type: 203, serialize: () => packet } as unknown as RtcpPacket;
}

type DtlsRecord = Parameters<CipherContext['encryptPacket']>[0];

/** Sends the DTLS close_notify alert (warning level), encrypted as every record after the handshake. */
function sendCloseNotify(transport: RTCDtlsTransport): Promise<void> {
  const socket = transport.dtls;
  if (!socket) return Promise.resolve();
  const context = socket.dtls;
  const fragment = Buffer.from([1, 0]); // warning, close_notify
  const record = {
    recordLayerHeader: {
      contentType: 21, // alert
      protocolVersion: context.version,
      epoch: context.epoch,
      sequenceNumber: ++context.recordSequenceNumber,
      contentLen: fragment.length,
    },
    fragment,
  };
  const sealed = socket.cipher.encryptPacket(record as unknown as DtlsRecord);
  const header = Buffer.alloc(13);
  header.writeUInt8(21, 0);
  header.writeUInt8(context.version.major, 1);
  header.writeUInt8(context.version.minor, 2);
  header.writeUInt16BE(context.epoch, 3);
  header.writeUIntBE(record.recordLayerHeader.sequenceNumber, 5, 6);
  header.writeUInt16BE(sealed.fragment.length, 11);
  return socket.transport.send(Buffer.concat([header, sealed.fragment]));
}
