import { expect } from 'chai';
import {
  MJPEG_CONTENT_TYPE,
  PART_TRAILER,
  aheadEnd,
  aheadStart,
  aheadTrailer,
  framingOf,
  partHeader,
  streamEnd,
} from '../../src/protocols/mjpeg/multipart.js';

describe('MJPEG multipart writer', () => {
  it('writes the part header byte for byte', () => {
    const head = partHeader(1234, { 'X-Frame-Number': 7 });
    expect(head.toString('latin1')).to.equal(
      '--liveviewframe\r\nContent-Type: image/jpeg\r\nContent-Length: 1234\r\nX-Frame-Number: 7\r\n\r\n',
    );
  });

  it('ends parts with CRLF and the stream with the closing boundary', () => {
    expect([...PART_TRAILER]).to.deep.equal([13, 10]);
    expect(streamEnd().toString('latin1')).to.equal('--liveviewframe--\r\n');
  });

  it('announces the boundary in the content type', () => {
    expect(MJPEG_CONTENT_TYPE).to.equal('multipart/x-mixed-replace; boundary=liveviewframe');
  });

  it("ahead framing: the next part's headers follow each JPEG at once", () => {
    expect(aheadStart().toString('latin1')).to.equal(
      '--liveviewframe\r\nContent-Type: image/jpeg\r\n\r\n',
    );
    expect(aheadTrailer().toString('latin1')).to.equal(
      '\r\n--liveviewframe\r\nContent-Type: image/jpeg\r\n\r\n',
    );
    expect(aheadEnd().toString('latin1')).to.equal('\r\n--liveviewframe--\r\n');
  });

  it('a browser image loader gets ahead framing, everyone else per-part headers, the query wins', () => {
    expect(framingOf('image')).to.equal('ahead');
    expect(framingOf(undefined)).to.equal('headers');
    expect(framingOf('document')).to.equal('headers');
    expect(framingOf('image', 'headers')).to.equal('headers');
    expect(framingOf(undefined, 'ahead')).to.equal('ahead');
  });
});
