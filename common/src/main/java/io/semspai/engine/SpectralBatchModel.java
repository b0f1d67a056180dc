package io.semspai.engine;

import io.semspai.engine.StageTimes.Stage;
import io.semspai.image.RgbImage;
import io.semspai.spai.SpaiModel;
import io.semspai.spai.SpaiPatches;
import io.semspai.spai.SpaiResult;
import java.util.ArrayList;
import java.util.List;

/** Pure SPAI behind the engine: spectral mode, needing no semantic weights. */
public final class SpectralBatchModel implements BatchModel {
  private final SpaiModel spai;
  private final String version;

  public SpectralBatchModel(SpaiModel spai, String version) {
    this.spai = spai;
    this.version = version;
  }

  @Override
  public String version() {
    return version;
  }

  @Override
  public Prepared prepare(RgbImage image) {
    return new Prepared(image.width(), image.height(), spai.inputPolicy().patches(image), null);
  }

  @Override
  public List<ModelOutput> run(List<Prepared> batch, int maxPatches, StageTimes times) {
    List<SpaiPatches> patches = new ArrayList<>(batch.size());
    batch.forEach(p -> patches.add(p.patches()));
    long t0 = System.nanoTime();
    List<SpaiResult> results = spai.scoreAll(patches, maxPatches);
    // scoreAll runs encoder, attention and head together; the encoder dominates, so the time is booked there.
    times.add(Stage.ENCODE, System.nanoTime() - t0);
    List<ModelOutput> out = new ArrayList<>(results.size());
    for (SpaiResult r : results) {
      out.add(new ModelOutput(r.logit(), r.imageFeature(), r.patches(), null, null));
    }
    return out;
  }

  @Override
  public long bytesPerPatch() {
    return SpaiModel.estimatedActivationBytesPerPatch(spai.config());
  }

  @Override
  public void close() {
    spai.close();
  }
}
