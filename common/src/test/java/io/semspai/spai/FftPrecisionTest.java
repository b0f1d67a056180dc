package io.semspai.spai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.semspai.nn.Placement;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** In reduced precision the ViT runs in fp16 but SPAI's frequency filter stays float32 end to end. */
class FftPrecisionTest {
  @TempDir Path tmp;

  @Test
  void fftAndBandsStayFloat32WhileTheVitRunsInFp16() throws Exception {
    Path dir = SpaiBundles.writeRandom(tmp.resolve("b"), SpaiConfig.tiny(), 7, "t", "0.1.0");
    Placement half = new Placement(Device.cpu(), Placement.Precision.FP16);
    try (SpaiModel model = SpaiModel.load(io.semspai.bundle.ModelBundle.open(dir), half);
        NDManager m = model.weightsManager().newSubManager()) {
      MfVit mfvit = model.network().mfvit();
      assertEquals(DataType.FLOAT16, mfvit.vit().computeType());
      assertEquals(DataType.INT64, model.network().stateParameters().get("mfvit.frequencies_mask").getArray()
          .getDataType(), "the int64 mask is not cast");
      int s = model.config().patch().size();
      NDArray patches = m.randomUniform(0f, 1f, new Shape(2, 3, s, s)).toType(DataType.FLOAT16, false);
      NDArray views = mfvit.spectralViews(patches);
      assertEquals(DataType.FLOAT32, views.getDataType(), "FFT, clamp and normalisation run in float32");
      assertEquals(new Shape(6, 3, s, s), views.getShape());
      for (NDArray band : mfvit.lowHigh(patches.toType(DataType.FLOAT32, false))) {
        assertEquals(DataType.FLOAT32, band.getDataType());
      }
      // why: libtorch has no half-precision FFT on the CPU (and cuFFT only for power-of-two sizes, 224 is not)
      assertThrows(ai.djl.engine.EngineException.class, () -> patches.fft2(new long[] {s, s}, new long[] {-2, -1}));
      NDArray features = model.network().encodePatches(null, patches, false);
      assertEquals(DataType.FLOAT32, features.getDataType(), "FRE statistics are float32");
      assertEquals(new Shape(2, model.config().featureDim()), features.getShape());
    }
  }
}
