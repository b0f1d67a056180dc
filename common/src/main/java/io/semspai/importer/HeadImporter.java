package io.semspai.importer;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.semspai.bundle.StateDictLoader;
import io.semspai.fusion.FusionConfig;
import io.semspai.fusion.FusionHead;
import io.semspai.fusion.HeadBundle;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Imports Sem-SPAI's fusion head from a Sem-SPAI training checkpoint (its {@code model} dict), or from a bare state
 * dict or safetensors file under the same keys.
 *
 * <p><b>Key selection.</b> {@code semantic_projection.*}, {@code fusion_layer.*} and {@code classifier.*}, as
 * {@code SemanticContextModel} names them and {@link FusionHead} keeps them. The checkpoint's frozen backbones
 * ({@code spai_model.*}, {@code semantic_backbone.*}) belong to {@code --spai} and {@code --convnext} and are skipped
 * here, counted. A {@code module.} prefix on every key (DataParallel) is stripped.
 *
 * <p><b>Config inference.</b> Every size shows in a shape: the semantic width and projection from
 * {@code semantic_projection.1.weight} (P×S), the fusion width from {@code fusion_layer.0.weight} (F×(D+P)), whose
 * columns less P give SPAI's feature width D. Only the projection LayerNorm's eps is not in any shape: torch's
 * default 1e-5, as upstream builds it.
 */
public final class HeadImporter extends NamedImporter {
  static final String NORM = "semantic_projection.0.weight";
  static final String PROJECTION = "semantic_projection.1.weight";
  static final String FUSION = "fusion_layer.0.weight";
  static final String CLASSIFIER0 = "classifier.0.weight";
  static final String CLASSIFIER3 = "classifier.3.weight";

  /** A Sem-SPAI checkpoint's backbones: skipped here. */
  static final Predicate<String> BACKBONES = key -> key.startsWith("spai_model.")
      || key.startsWith(ConvNextImporter.SEM_SPAI_PREFIX);

  private static final Map<String, String> KEYS = new LinkedHashMap<>();

  static {
    KEYS.put("spectral_dim", "SPAI feature width D (read from fusion_layer.0: columns − P)");
    KEYS.put("semantic_dim", "ConvNeXt feature width S (read from semantic_projection.1)");
    KEYS.put("projection_dim", "semantic projection width P (read from semantic_projection.1)");
    KEYS.put("fusion_dim", "fusion and classifier width F (read from fusion_layer.0)");
    KEYS.put("layer_norm_eps", "projection LayerNorm epsilon (not in any shape; torch 1e-5)");
  }

  private final FusionConfig preset;

  /** An importer that falls back on Sem-SPAI's own sizes ({@link FusionConfig#full()}). */
  public HeadImporter() {
    this(FusionConfig.full());
  }

  HeadImporter(FusionConfig preset) {
    super(HeadBundle.COMPONENT, "--head", HeadBundle.FILE, KEYS, Map.of());
    this.preset = preset;
  }

  /** Whether a key is one of the fusion head's ({@code semantic_projection.*}, {@code fusion_layer.*}, …). */
  static boolean isHeadKey(String key) {
    return key.startsWith("semantic_projection.") || key.startsWith("fusion_layer.") || key.startsWith("classifier.");
  }

  @Override
  public Map<String, SourceTensor> select(WeightSource source) {
    return Selection.withoutDataParallelPrefix(source.tensors());
  }

  @Override
  public Plan plan(Map<String, SourceTensor> tensors, Map<String, String> settings) throws ImportException {
    SizeDecider d = new SizeDecider(option(), tensors, settings);
    long[] proj = d.shape(PROJECTION, 2);
    long[] norm = d.shape(NORM, 1);
    long[] fusion = d.shape(FUSION, 2);
    long[] c0 = d.shape(CLASSIFIER0, 2);
    long[] c3 = d.shape(CLASSIFIER3, 2);
    int semantic = d.integer("semantic_dim", proj != null ? SizeDecider.at(proj, 1) : SizeDecider.at(norm, 0),
        proj != null ? PROJECTION : NORM, preset.semanticDim());
    int projection = d.integer("projection_dim", SizeDecider.at(proj, 0), PROJECTION, preset.projectionDim());
    int fusionDim = d.integer("fusion_dim", fusion != null ? SizeDecider.at(fusion, 0) : SizeDecider.at(c3, 1),
        fusion != null ? FUSION : CLASSIFIER3, preset.fusionDim());
    Long spectral = fusion != null ? Long.valueOf(fusion[1] - projection)
        : c0 != null ? Long.valueOf(c0[1] - fusionDim) : null;
    int spectralDim = d.integer("spectral_dim", spectral, fusion != null ? FUSION + " columns − projection_dim"
        : CLASSIFIER0 + " columns − fusion_dim", preset.spectralDim());
    double eps = d.real("layer_norm_eps", preset.layerNormEps());
    return plan(d, spectralDim, semantic, projection, fusionDim, eps);
  }

  /**
   * The plan of a head with no checkpoint (Sem-SPAI's own random init): its input widths are the backbones'
   * features, the rest Sem-SPAI's sizes unless {@code --set}.
   */
  Plan randomPlan(Map<String, String> settings, int spectralDim, int semanticDim) throws ImportException {
    SizeDecider d = new SizeDecider("--head", Map.of(), settings);
    int spectral = d.integer("spectral_dim", spectralDim, "the SPAI feature", preset.spectralDim());
    int semantic = d.integer("semantic_dim", semanticDim, "the ConvNeXt feature", preset.semanticDim());
    int projection = d.integer("projection_dim", null, null, preset.projectionDim());
    int fusionDim = d.integer("fusion_dim", null, null, preset.fusionDim());
    double eps = d.real("layer_norm_eps", preset.layerNormEps());
    return plan(d, spectral, semantic, projection, fusionDim, eps);
  }

  private Plan plan(SizeDecider d, int spectral, int semantic, int projection, int fusion, double eps)
      throws ImportException {
    FusionConfig cfg;
    try {
      cfg = new FusionConfig(spectral, semantic, projection, fusion, eps);
    } catch (IllegalArgumentException e) {
      throw new ImportException(option() + ": these sizes make no valid fusion head (" + e.getMessage() + ")", e);
    }
    FusionHead head = new FusionHead(cfg);
    StateDictLoader.Expectation expect = new StateDictLoader.Expectation(head.stateShapes(), head.stateDataTypes(),
        BACKBONES);
    String summary = String.format(Locale.ROOT, "projection %d → %d; fusion %d + %d → %d; classifier %d + %d → %d → 1;"
        + " eps %s", cfg.semanticDim(), cfg.projectionDim(), cfg.spectralDim(), cfg.projectionDim(), cfg.fusionDim(),
        cfg.spectralDim(), cfg.fusionDim(), cfg.fusionDim(), cfg.layerNormEps());
    return new Plan(new ObjectMapper().valueToTree(cfg), expect, Map.of(), d.lines, summary);
  }

  @Override
  public List<String> hints(Collection<String> unexpectedKeys) {
    List<String> out = new ArrayList<>();
    if (unexpectedKeys.stream().anyMatch(k -> k.startsWith("mfvit.") || k.startsWith("spai_model."))) {
      out.add("these look like SPAI weights (mfvit.*): pass that file with --spai");
    }
    if (unexpectedKeys.stream().anyMatch(k -> k.startsWith(ConvNextImporter.PREFIX)
        || k.startsWith(ConvNextImporter.SEM_SPAI_PREFIX))) {
      out.add("these look like ConvNeXt trunk weights (visual.trunk.*): pass that file with --convnext");
    }
    return out;
  }
}
