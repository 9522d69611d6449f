import { expect } from 'chai';
import fc from 'fast-check';
import { BadRequestError, LiveViewError } from '../../src/core/errors.js';
import { checkOffer, chooseCodec, offeredVideoCodecs } from '../../src/protocols/webrtc/peer.js';
import {
  describeThrown,
  nastyString,
  nastyValue,
  outcomeOf,
  runs,
} from '../helpers/arbitraries.js';
import { mutatedOffer } from '../helpers/sdp-arbitraries.js';
import { TestViewer } from '../helpers/webrtc-viewer.js';

/** The contract of checkOffer: the offer returned unchanged, or a 400 LiveViewError with a message. */
function checkContract(input: unknown): void {
  const outcome = outcomeOf(() => checkOffer(input));
  if (outcome.ok) {
    expect(outcome.value).to.equal(input);
    expect(outcome.value).to.be.a('string');
    expect(outcome.value.startsWith('v=0'), 'an accepted offer starts with v=0').to.equal(true);
    expect(outcome.value, 'an accepted offer has a video section').to.match(/(^|\n)m=video /);
    return;
  }
  const err = outcome.error;
  expect(err, describeThrown(err)).to.be.instanceOf(LiveViewError);
  expect((err as LiveViewError).status).to.equal(400);
  expect((err as Error).message)
    .to.be.a('string')
    .and.have.length.above(0);
}

describe('property: SDP offers (checkOffer, offeredVideoCodecs, chooseCodec)', function () {
  this.timeout(30_000);
  let offer = '';

  before(async () => {
    const viewer = new TestViewer({ dataChannel: true });
    try {
      offer = await viewer.offer();
    } finally {
      await viewer.close();
    }
  });

  it('a real browser-like offer (werift) is accepted', () => {
    expect(checkOffer(offer)).to.equal(offer);
    expect(offeredVideoCodecs(offer)).to.include.members(['VP8', 'H264']);
  });

  it('any value (not only strings): returned unchanged, or a BadRequestError (400)', () => {
    fc.assert(fc.property(fc.oneof(nastyValue, nastyString), checkContract), runs(500));
  });

  it('mutated real offers (lines dropped, duplicated, replaced, line ends changed, cut): accepted or a clean 400', () => {
    fc.assert(fc.property(mutatedOffer(offer), checkContract), runs(500));
  });

  it('offeredVideoCodecs/chooseCodec on mutated offers: a codec the offer lists, or a BadRequestError', () => {
    fc.assert(
      fc.property(
        mutatedOffer(offer),
        fc.constantFrom('VP8', 'H264') as fc.Arbitrary<'VP8' | 'H264'>,
        (sdp, preferred) => {
          const offered = offeredVideoCodecs(sdp);
          for (const c of offered) expect(['VP8', 'H264']).to.include(c);
          const outcome = outcomeOf(() => chooseCodec(sdp, preferred));
          if (outcome.ok) expect(offered).to.include(outcome.value);
          else {
            expect(outcome.error, describeThrown(outcome.error)).to.be.instanceOf(BadRequestError);
            expect(offered).to.deep.equal([]);
          }
        },
      ),
      runs(300),
    );
  });
});
