import { expect } from 'chai';
import { ConfigError } from '../../src/core/errors.js';
import { parseOmeTiffParams, parseOmeZarrParams } from '../../src/recording/index.js';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as ConfigError).status).to.equal(400);
    return (err as ConfigError).problems;
  }
  throw new Error('no error');
}

describe('recording format params', () => {
  it('ome-tiff: defaults, the bigtiff choice, unknown keys named', () => {
    expect(parseOmeTiffParams(undefined).bigtiff).to.equal('auto');
    expect(parseOmeTiffParams({ bigtiff: 'always' }).bigtiff).to.equal('always');
    expect(problems(() => parseOmeTiffParams({ bigtiff: 'never' }))).to.deep.equal([
      'params.bigtiff: must be one of: auto, always',
    ]);
    expect(problems(() => parseOmeTiffParams({ compression: 'lzw' }))).to.deep.equal([
      'params.compression: unknown key (known keys: bigtiff)',
    ]);
  });

  it('ome-zarr: compressor and zstd level', () => {
    expect(parseOmeZarrParams({}).compressor).to.equal('zstd');
    expect(parseOmeZarrParams({}).level).to.equal(undefined);
    expect(parseOmeZarrParams({ compressor: 'zstd', level: 5 })).to.include({ level: 5 });
    expect(problems(() => parseOmeZarrParams({ compressor: 'gzip' }))).to.deep.equal([
      'params.compressor: must be one of: zstd, lz4, none',
    ]);
    expect(problems(() => parseOmeZarrParams({ compressor: 'zstd', level: 30 }))).to.deep.equal([
      'params.level: must be an integer between 1 and 19',
    ]);
    expect(problems(() => parseOmeZarrParams({ compressor: 'lz4', level: 3 }))).to.deep.equal([
      'params.level: only the zstd compressor has a level (compressor is lz4)',
    ]);
    expect(problems(() => parseOmeZarrParams({ chunks: 2 }))).to.deep.equal([
      'params.chunks: unknown key (known keys: compressor, level)',
    ]);
  });
});
