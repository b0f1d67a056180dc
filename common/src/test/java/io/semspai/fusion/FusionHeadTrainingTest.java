package io.semspai.fusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import com.fasterxml.jackson.databind.JsonNode;
import io.semspai.engine.BatchModel;
import io.semspai.engine.ModelOutput;
import io.semspai.engine.StageTimes;
import io.semspai.nn.TorchModule;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The head trains as a whole and the backbones do not: one DJL step (GradientCollector, BCE with logits, dropout
 * live) on the golden model. Upstream's main branch froze {@code fusion_layer} and {@code classifier} by mistake, so
 * only the projection learned; here every head tensor must receive a gradient and move, while the ConvNeXt trunk,
 * run inside the same collector, gets none and keeps its weights.
 */
class FusionHeadTrainingTest {
  @TempDir static Path tmp;
  static SemSpaiModel model;
  static float[] spectral;
  static float[] semanticInputs;
  static float[] labels;
  static int n;

  @BeforeAll
  static void load() throws Exception {
    model = SemSpaiModel.load(GoldenBundle.create(tmp.resolve("golden"), "native", true));
    JsonNode imgs = GoldenBundle.expected().get("images");
    n = imgs.size();
    List<BatchModel.Prepared> batch = new ArrayList<>();
    for (JsonNode img : imgs) {
      batch.add(model.prepare(GoldenBundle.image(img.get("file").asText())));
    }
    List<ModelOutput> out = model.run(batch, 16, new StageTimes());
    int d = model.headConfig().spectralDim();
    int len = batch.get(0).semanticInput().length;
    spectral = new float[n * d];
    semanticInputs = new float[n * len];
    labels = new float[n];
    for (int i = 0; i < n; i++) {
      System.arraycopy(out.get(i).spectralFeature(), 0, spectral, i * d, d);
      System.arraycopy(batch.get(i).semanticInput(), 0, semanticInputs, i * len, len);
      labels[i] = i % 2; // arbitrary labels: a gradient step is what is under test, not learning
    }
  }

  @AfterAll
  static void close() {
    model.close();
  }

  static Map<String, float[]> snapshot(TorchModule m) {
    Map<String, float[]> out = new LinkedHashMap<>();
    m.stateParameters().forEach((k, p) -> out.put(k, p.getArray().toType(ai.djl.ndarray.types.DataType.FLOAT32, false)
        .toFloatArray())); // the SPAI mask is int64
    return out;
  }

  @Test
  void everyHeadParameterGetsAGradientAndMovesWhileTheBackbonesStayFrozen() {
    Engine.getInstance().setRandomSeed(1234);
    FusionConfig cfg = model.headConfig();
    Map<String, float[]> trunkBefore = snapshot(model.convnext().network());
    Map<String, float[]> spaiBefore = snapshot(model.spai().network());
    int s = model.convnext().config().inputSize();
    try (NDManager m = NDManager.newBaseManager()) {
      FusionHead head = FusionHead.of(cfg, model.headState(), m);
      head.setTrainable(true);
      Map<String, float[]> headBefore = snapshot(head);
      Map<String, float[]> grads = new LinkedHashMap<>();
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        // the semantic feature is computed inside the collector, through the frozen trunk (eval mode)
        NDArray sem = model.convnext().network().features(null, m.create(semanticInputs, new Shape(n, 3, s, s)),
            false);
        NDArray logits = head.forward(null, m.create(spectral, new Shape(n, cfg.spectralDim())), sem, true);
        NDArray loss = Loss.sigmoidBinaryCrossEntropyLoss().evaluate(new NDList(m.create(labels, new Shape(n, 1))),
            new NDList(logits));
        assertTrue(loss.getFloat() > 0);
        gc.backward(loss);
        for (Map.Entry<String, Parameter> e : head.stateParameters().entrySet()) {
          grads.put(e.getKey(), e.getValue().getArray().getGradient().toFloatArray());
        }
        Optimizer adamW = Optimizer.adamW().optLearningRateTracker(Tracker.fixed(1e-3f)).build();
        for (Parameter p : head.stateParameters().values()) {
          adamW.update(p.getId(), p.getArray(), p.getArray().getGradient());
        }
      }
      assertEquals(10, grads.size(), "semantic_projection.{0,1}, fusion_layer.0, classifier.{0,3}: weight and bias");
      for (Map.Entry<String, float[]> g : grads.entrySet()) {
        int nonZero = 0;
        for (float v : g.getValue()) {
          assertTrue(Float.isFinite(v), g.getKey());
          nonZero += v != 0 ? 1 : 0;
        }
        assertTrue(nonZero > 0, g.getKey() + " got no gradient");
        // dropout zeroes some hidden units for a whole batch only rarely; most entries must be live
        assertTrue(nonZero >= 0.5 * g.getValue().length, g.getKey() + ": only " + nonZero + " of "
            + g.getValue().length + " gradient entries are non-zero");
      }
      Map<String, float[]> headAfter = snapshot(head);
      for (String k : headBefore.keySet()) {
        assertFalse(java.util.Arrays.equals(headBefore.get(k), headAfter.get(k)), k + " did not move");
      }
      for (Parameter p : model.convnext().network().stateParameters().values()) {
        assertFalse(p.requiresGradient() || p.getArray().hasGradient(), "trunk " + p.getName() + " records gradients");
      }
      assertMapsEqual(trunkBefore, snapshot(model.convnext().network()));
      assertMapsEqual(spaiBefore, snapshot(model.spai().network()));
    }
  }

  @Test
  void evalModeIsDeterministicAndEqualsTheModelsHead() {
    FusionConfig cfg = model.headConfig();
    float[] semantic = model.convnext().features(semanticInputs, n, 4);
    float[] expected = model.fusedLogits(spectral, semantic, n);
    try (NDManager m = NDManager.newBaseManager()) {
      FusionHead head = FusionHead.of(cfg, model.headState(), m);
      for (int round = 0; round < 2; round++) {
        float[] got = head.forward(null, m.create(spectral, new Shape(n, cfg.spectralDim())),
            m.create(semantic, new Shape(n, cfg.semanticDim())), false).toFloatArray();
        assertEquals(n, got.length);
        for (int i = 0; i < n; i++) {
          assertEquals(expected[i], got[i], 0f);
        }
      }
      // with dropout live the same batch gives other logits
      head.setTrainable(true);
      float[] noisy = head.forward(null, m.create(spectral, new Shape(n, cfg.spectralDim())),
          m.create(semantic, new Shape(n, cfg.semanticDim())), true).toFloatArray();
      assertFalse(java.util.Arrays.equals(expected, noisy));
    }
  }

  @Test
  void initialisationIsSemSpaisAndSeeded() {
    FusionConfig full = FusionConfig.full();
    assertEquals(2_309_889L, FusionHead.parameterCount(full));
    Map<String, float[]> a = FusionHead.initialState(full, 7);
    assertTrue(java.util.Arrays.equals(a.get("classifier.0.weight"),
        FusionHead.initialState(full, 7).get("classifier.0.weight")));
    float[] w = a.get("semantic_projection.1.weight");
    double sum = 0;
    double sq = 0;
    for (float v : w) {
      sum += v;
      sq += v * v;
    }
    double mean = sum / w.length;
    assertEquals(0, mean, 1e-3);
    assertEquals(FusionHead.INIT_STD, Math.sqrt(sq / w.length - mean * mean), 1e-3);
    for (float v : a.get("fusion_layer.0.bias")) {
      assertEquals(0f, v);
    }
    for (float v : a.get("semantic_projection.0.weight")) {
      assertEquals(1f, v); // LayerNorm
    }
  }

  static void assertMapsEqual(Map<String, float[]> a, Map<String, float[]> b) {
    assertEquals(a.keySet(), b.keySet());
    for (String k : a.keySet()) {
      assertTrue(java.util.Arrays.equals(a.get(k), b.get(k)), k + " changed");
    }
  }
}
