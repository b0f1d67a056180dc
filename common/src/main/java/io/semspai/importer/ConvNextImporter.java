package io.semspai.importer;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.semspai.bundle.StateDictLoader;
import io.semspai.semantic.ConvNextConfig;
import io.semspai.semantic.ConvNextModel;
import io.semspai.semantic.ConvNextNetwork;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Imports the semantic branch: OpenCLIP {@code convnext_xxlarge}'s image trunk ({@code open_clip_pytorch_model.bin}
 * or {@code .safetensors}, a bare state dict), or the trunk inside a Sem-SPAI training checkpoint.
 *
 * <p><b>Key selection.</b> {@code visual.trunk.*}, under the keys the bundle keeps ({@link ConvNextNetwork#PREFIX}).
 * The rest of the CLIP model (the image tower's projection {@code visual.head.proj.weight}, the text tower,
 * {@code logit_scale}) is skipped and counted. A Sem-SPAI checkpoint keeps the trunk as {@code semantic_backbone.*}
 * ({@code self.semantic_backbone = convnext.visual.trunk}), which maps one to one onto {@code visual.trunk.*}; its
 * other parts ({@code spai_model.*} and the fusion head) belong to {@code --spai} and {@code --head} and are skipped
 * here. A {@code module.} prefix on every key (DataParallel) is stripped.
 *
 * <p><b>Config inference.</b> Stage depths from the {@code stages.{i}.blocks.{j}} indices, widths and the depthwise
 * kernel from {@code conv_dw.weight}, the stem's patch from {@code stem.0.weight} (timm's patchify stem: stride =
 * kernel), the MLP ratio from {@code mlp.fc1.weight}. Not in any shape, so from the preset ({@link
 * ConvNextConfig#full()}) unless {@code --set}: LayerNorm eps (1e-5 in current timm for convnext_xxlarge; a wrong eps
 * moves features by only ~1e-5, so no test would notice) and the input size (224: Sem-SPAI resizes to 224, not
 * OpenCLIP's native 256).
 *
 * <p><b>Expectation.</b> {@link ConvNextModel#expectation}, with only the known parts of an OpenCLIP or Sem-SPAI
 * file skipped: anything else (a SPAI checkpoint given here) is an unexpected key.
 */
public final class ConvNextImporter extends NamedImporter {
  static final String PREFIX = ConvNextNetwork.PREFIX;
  /** Sem-SPAI's name for the same trunk ({@code SemanticContextModel.semantic_backbone}). */
  static final String SEM_SPAI_PREFIX = "semantic_backbone.";
  static final String STEM = PREFIX + "stem.0.weight";
  private static final Pattern STAGE = Pattern.compile(Pattern.quote(PREFIX) + "stages\\.(\\d+)\\..*");

  /** The parts of an OpenCLIP CLIP model outside the image trunk: image projection, text tower, logit scale/bias. */
  static final Predicate<String> OPEN_CLIP_OTHER = key -> key.startsWith("visual.") && !key.startsWith(PREFIX)
      || key.startsWith("transformer.") || key.startsWith("token_embedding.") || key.startsWith("ln_final.")
      || key.startsWith("text.") || key.equals("positional_embedding") || key.equals("text_projection")
      || key.equals("logit_scale") || key.equals("logit_bias") || key.equals("attn_mask");

  /** The other parts of a Sem-SPAI checkpoint: SPAI and the fusion head. */
  static final Predicate<String> SEM_SPAI_OTHER = key -> key.startsWith("spai_model.")
      || HeadImporter.isHeadKey(key);

  private static final Map<String, String> KEYS = new LinkedHashMap<>();

  static {
    KEYS.put("depths", "blocks per stage, e.g. 3,4,30,3 (read from the block keys)");
    KEYS.put("dims", "channels per stage, e.g. 384,768,1536,3072 (read from conv_dw)");
    KEYS.put("stem.kernel", "stem conv kernel (read from stem.0.weight)");
    KEYS.put("stem.stride", "stem conv stride (not in any shape; timm: the kernel)");
    KEYS.put("dwconv.kernel", "depthwise conv kernel (read from conv_dw)");
    KEYS.put("mlp_ratio", "block MLP width / channels (read from mlp.fc1)");
    KEYS.put("layer_norm_eps", "LayerNorm epsilon (not in any shape; timm 1e-5)");
    KEYS.put("input_size", "semantic input side in px (not in any shape; Sem-SPAI 224)");
  }

  private static final Map<String, String> ALIASES = Map.of("eps", "layer_norm_eps");

  private final ConvNextConfig preset;

  /** An importer that falls back on OpenCLIP {@code convnext_xxlarge} as Sem-SPAI runs it. */
  public ConvNextImporter() {
    this(ConvNextConfig.full());
  }

  ConvNextImporter(ConvNextConfig preset) {
    super(ConvNextModel.COMPONENT, "--convnext", ConvNextModel.FILE, KEYS, ALIASES);
    this.preset = preset;
  }

  @Override
  public Map<String, SourceTensor> select(WeightSource source) {
    Map<String, SourceTensor> all = Selection.withoutDataParallelPrefix(source.tensors());
    boolean openClip = all.keySet().stream().anyMatch(k -> k.startsWith(PREFIX));
    if (openClip || all.keySet().stream().noneMatch(k -> k.startsWith(SEM_SPAI_PREFIX))) {
      return all;
    }
    Map<String, SourceTensor> out = new LinkedHashMap<>();
    all.forEach((k, v) -> out.put(k.startsWith(SEM_SPAI_PREFIX) ? PREFIX + k.substring(SEM_SPAI_PREFIX.length()) : k,
        v));
    return out;
  }

  @Override
  public Plan plan(Map<String, SourceTensor> tensors, Map<String, String> settings) throws ImportException {
    SizeDecider d = new SizeDecider(option(), tensors, settings);
    Integer stages = d.count(STAGE);
    List<Long> depths = new ArrayList<>();
    List<Long> dims = new ArrayList<>();
    for (int i = 0; stages != null && i < stages; i++) {
      Integer blocks = d.count(Pattern.compile(Pattern.quote(PREFIX + "stages." + i + ".blocks.") + "(\\d+)\\..*"));
      depths.add(blocks == null ? null : Long.valueOf(blocks));
      dims.add(SizeDecider.at(d.shape(convDw(i), 4), 0));
    }
    List<Integer> depthList = d.integers("depths", depths, "the block keys stages.{i}.blocks.{j}", preset.depths());
    List<Integer> dimList = d.integers("dims", dims, "stages.{i}.blocks.0.conv_dw.weight", preset.dims());
    long[] stem = d.shape(STEM, 4);
    Long stemKernel = stem != null && stem[2] == stem[3] ? Long.valueOf(stem[2]) : null;
    int kernel = d.integer("stem.kernel", stemKernel, STEM, preset.stem().kernel());
    int stride;
    if (d.isSet("stem.stride")) {
      stride = d.integer("stem.stride", null, null, preset.stem().stride());
    } else {
      stride = kernel;
      d.note("stem.stride", Integer.toString(stride), "= the stem kernel: timm's patchify stem");
    }
    long[] dw = d.shape(convDw(0), 4);
    int dwKernel = d.integer("dwconv.kernel", dw != null && dw[2] == dw[3] ? Long.valueOf(dw[2]) : null, convDw(0),
        preset.dwconv().kernel());
    String fc1 = PREFIX + "stages.0.blocks.0.mlp.fc1.weight";
    long[] fc1Shape = d.shape(fc1, 2);
    Long ratio = fc1Shape != null && fc1Shape[1] > 0 && fc1Shape[0] % fc1Shape[1] == 0
        ? Long.valueOf(fc1Shape[0] / fc1Shape[1]) : null;
    int mlpRatio = d.integer("mlp_ratio", ratio, fc1 + " rows / columns", preset.mlpRatio());
    double eps = d.real("layer_norm_eps", preset.layerNormEps());
    int inputSize = d.integer("input_size", null, null, preset.inputSize());

    ConvNextConfig cfg;
    try {
      cfg = new ConvNextConfig(depthList, dimList, eps, inputSize, new ConvNextConfig.Stem(kernel, stride),
          new ConvNextConfig.DwConv(dwKernel, dwKernel / 2), mlpRatio);
    } catch (IllegalArgumentException e) {
      throw new ImportException(option() + ": these sizes make no valid ConvNeXt trunk (" + e.getMessage() + ")", e);
    }
    StateDictLoader.Expectation model = ConvNextModel.expectation(cfg);
    StateDictLoader.Expectation expect = new StateDictLoader.Expectation(model.shapes(), model.dataTypes(),
        OPEN_CLIP_OTHER.or(SEM_SPAI_OTHER));
    String summary = String.format(Locale.ROOT, "ConvNeXt depths %s, dims %s, stem %d/%d, dw %d, MLP ×%d, eps %s,"
        + " input %d px; feature %d", depthList, dimList, kernel, stride, dwKernel, mlpRatio, eps, inputSize,
        cfg.featureDim());
    return new Plan(new ObjectMapper().valueToTree(cfg), expect, Map.of(), d.lines, summary);
  }

  private static String convDw(int stage) {
    return PREFIX + "stages." + stage + ".blocks.0.conv_dw.weight";
  }

  @Override
  public List<String> hints(Collection<String> unexpectedKeys) {
    List<String> out = new ArrayList<>();
    if (unexpectedKeys.stream().anyMatch(k -> k.startsWith("mfvit.") || k.startsWith("spai_model."))) {
      out.add("these look like SPAI weights (mfvit.*): pass that file with --spai");
    }
    if (unexpectedKeys.stream().anyMatch(HeadImporter::isHeadKey)) {
      out.add("these look like a Sem-SPAI fusion head (semantic_projection.*, fusion_layer.*, classifier.*): pass"
          + " that file with --head");
    }
    if (unexpectedKeys.stream().anyMatch(k -> k.matches(".*blocks\\.\\d+\\.ls\\.gamma"))) {
      out.add("the layer scale is saved as ls.gamma (a newer timm layout); OpenCLIP's convnext_xxlarge saves it as"
          + " blocks.{j}.gamma");
    }
    return out;
  }
}
