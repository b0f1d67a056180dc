package io.semspai.importer;

import io.semspai.spai.FrequencyMask;
import io.semspai.spai.SpaiBundles;
import io.semspai.spai.SpaiConfig;
import io.semspai.spai.SpaiModel;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Imports SPAI ({@code mever-team/spai}'s {@code spai.pth}, or any state dict under the same keys).
 *
 * <p><b>Key selection.</b> The state dict a training checkpoint keeps under {@code model} (or a bare one), keys as
 * {@code PatchBasedMFViT.state_dict()} names them. A {@code module.} prefix on every key (a model saved while wrapped
 * in DataParallel) is stripped; so is {@code spai_model.} when the file is a Sem-SPAI checkpoint that holds SPAI
 * inside it.
 *
 * <p><b>Config inference.</b> Read from shapes: ViT embed dim and patch size ({@code patch_embed.proj.weight}),
 * image size (the frequency mask, else {@code pos_embed}), depth (block indices), MLP ratio ({@code fc1}), FRE
 * projection dim and layer count (the projectors), SCA heads and width ({@code patch_aggregator}), head ratio
 * ({@code cls_head.head.0}). The masking radius is read from the mask's values. Not visible in any shape, so taken
 * from upstream's {@code configs/spai.yaml} unless {@code --set}: the ViT head count (12), its LayerNorm eps (1e-6),
 * which blocks feed the projectors (all of them, when there are as many projectors as blocks), patch stride and the
 * five-crop threshold.
 *
 * <p><b>Expectation.</b> {@link SpaiModel#expectation}; upstream tensors the forward never uses
 * ({@link SpaiModel#UNUSED_UPSTREAM_KEYS}) are skipped.
 */
public final class SpaiImporter extends NamedImporter {
  static final String PATCH_EMBED = "mfvit.vit.patch_embed.proj.weight";
  static final String POS_EMBED = "mfvit.vit.pos_embed";
  static final String MASK = "mfvit.frequencies_mask";
  static final String FC1 = "mfvit.vit.blocks.0.mlp.fc1.weight";
  static final String PROJECTOR0 = "mfvit.features_processor.patch_projector.projectors.0.projector.1.weight";
  static final String ALPHA = "mfvit.features_processor.original_features_processor.alpha";
  static final String AGGREGATOR = "patch_aggregator";
  static final String TO_KV = "to_kv.weight";
  static final String HEAD0 = "cls_head.head.0.weight";
  private static final Pattern BLOCK = Pattern.compile("mfvit\\.vit\\.blocks\\.(\\d+)\\..*");
  private static final Pattern PROJECTOR =
      Pattern.compile("mfvit\\.features_processor\\.patch_projector\\.projectors\\.(\\d+)\\..*");

  private static final Map<String, String> KEYS = new LinkedHashMap<>();

  static {
    KEYS.put("vit.img_size", "ViT input size in px (read from the mask / pos_embed)");
    KEYS.put("vit.patch_size", "ViT patch size (read from patch_embed)");
    KEYS.put("vit.embed_dim", "ViT width (read from patch_embed)");
    KEYS.put("vit.depth", "ViT blocks (read from the block keys)");
    KEYS.put("vit.num_heads", "ViT attention heads (not in any shape; upstream 12)");
    KEYS.put("vit.mlp_ratio", "ViT MLP width / embed dim (read from fc1)");
    KEYS.put("vit.layer_norm_eps", "ViT LayerNorm epsilon (not in any shape; upstream 1e-6)");
    KEYS.put("fre.projection_dim", "FRE projector width (read from the projectors)");
    KEYS.put("fre.intermediate_layers", "ViT blocks feeding the projectors, e.g. 0,1,2 or 0..11 (upstream: all)");
    KEYS.put("fre.masking_radius", "low-pass radius (read from the mask's values)");
    KEYS.put("sca.attn_embed_dim", "SCA width (read from patch_aggregator)");
    KEYS.put("sca.num_heads", "SCA heads (read from patch_aggregator)");
    KEYS.put("head.mlp_ratio", "classification head width / feature dim (read from cls_head)");
    KEYS.put("patch.stride", "patch grid stride in px (upstream: the patch size)");
    KEYS.put("patch.minimum_patches", "below this many grid patches, five-crop (upstream 4)");
  }

  private static final Map<String, String> ALIASES = Map.of(
      "vit.heads", "vit.num_heads",
      "vit.eps", "vit.layer_norm_eps",
      "sca.heads", "sca.num_heads",
      "fre.layers", "fre.intermediate_layers");

  private final SpaiConfig preset;

  /** An importer that falls back on upstream's sizes ({@link SpaiConfig#full()}). */
  public SpaiImporter() {
    this(SpaiConfig.full());
  }

  SpaiImporter(SpaiConfig preset) {
    super(SpaiModel.COMPONENT, "--spai", SpaiModel.FILE, KEYS, ALIASES);
    this.preset = preset;
  }

  @Override
  public Map<String, SourceTensor> select(WeightSource source) {
    Map<String, SourceTensor> all = Selection.withoutDataParallelPrefix(source.tensors());
    boolean nested = all.keySet().stream().noneMatch(k -> k.startsWith("mfvit."))
        && all.keySet().stream().anyMatch(k -> k.startsWith("spai_model.mfvit."));
    return nested ? Selection.under(all, "spai_model.") : all;
  }

  @Override
  public Plan plan(Map<String, SourceTensor> tensors, Map<String, String> settings) throws ImportException {
    SizeDecider d = new SizeDecider(option(), tensors, settings);
    SpaiConfig.Vit pv = preset.vit();

    long[] pe = d.shape(PATCH_EMBED, 4);
    long[] pos = d.shape(POS_EMBED, 3);
    long[] maskShape = d.shape(MASK, 2);
    int embed = d.integer("vit.embed_dim", pe != null ? at(pe, 0) : at(pos, 2),
        pe != null ? PATCH_EMBED : POS_EMBED, pv.embedDim());
    Long inferredPatch = pe != null && pe[2] == pe[3] ? at(pe, 2) : null;
    int patch = d.integer("vit.patch_size", inferredPatch, PATCH_EMBED, pv.patchSize());
    Long inferredImg = null;
    String imgFrom = null;
    if (maskShape != null && maskShape[0] == maskShape[1]) {
      inferredImg = maskShape[0];
      imgFrom = MASK;
    } else if (pos != null) {
      long side = Math.round(Math.sqrt(pos[1] - 1));
      if (side * side == pos[1] - 1) {
        inferredImg = side * patch;
        imgFrom = POS_EMBED + " (" + side + "² tokens + CLS)";
      }
    }
    int img = d.integer("vit.img_size", inferredImg, imgFrom, pv.imgSize());
    int depth = d.integer("vit.depth", d.count(BLOCK), "the block keys", pv.depth());
    long[] fc1 = d.shape(FC1, 2);
    double mlpRatio = d.ratio("vit.mlp_ratio", at(fc1, 0), embed, FC1, pv.mlpRatio());
    int heads = d.integer("vit.num_heads", null, null, pv.numHeads());
    if (!d.isSet("vit.num_heads") && embed % heads != 0) {
      throw new ImportException("--spai: the ViT's width " + embed + " is not a multiple of the preset's " + heads
          + " heads, and the head count shows in no tensor's shape; pass it with --set vit.num_heads=N (upstream's"
          + " MODEL.VIT.NUM_HEADS)");
    }
    double eps = d.real("vit.layer_norm_eps", pv.layerNormEps());

    long[] proj0 = d.shape(PROJECTOR0, 2);
    long[] alpha = d.shape(ALPHA, 3);
    int projection = d.integer("fre.projection_dim", proj0 != null ? at(proj0, 0) : at(alpha, 2),
        proj0 != null ? PROJECTOR0 : ALPHA, preset.fre().projectionDim());
    Integer projectorCount = d.count(PROJECTOR);
    if (projectorCount == null && alpha != null) {
      projectorCount = (int) alpha[1];
    }
    List<Integer> layers = layers(d, projectorCount, depth, preset.fre().intermediateLayers());
    int radius = radius(d, img, preset.fre().maskingRadius());

    long[] agg = d.shape(AGGREGATOR, 3);
    int scaHeads = d.integer("sca.num_heads", at(agg, 0), AGGREGATOR, preset.sca().numHeads());
    long[] kv = d.shape(TO_KV, 2);
    Long inferredAttn = agg != null ? Long.valueOf(agg[0] * agg[2])
        : kv != null && kv[0] % 2 == 0 ? Long.valueOf(kv[0] / 2) : null;
    int attn = d.integer("sca.attn_embed_dim", inferredAttn, agg != null ? AGGREGATOR : TO_KV,
        preset.sca().attnEmbedDim());
    int featureDim = 6 * layers.size() + projection;
    long[] head0 = d.shape(HEAD0, 2);
    double headRatio = d.ratio("head.mlp_ratio", at(head0, 0), featureDim, HEAD0,
        preset.head().mlpRatio());

    boolean presetStride = preset.patch().stride() == preset.patch().size();
    int stride = d.integer("patch.stride", null, null, presetStride ? img : preset.patch().stride());
    int minimum = d.integer("patch.minimum_patches", null, null, preset.patch().minimumPatches());

    SpaiConfig cfg;
    try {
      cfg = new SpaiConfig(
          new SpaiConfig.Vit(img, patch, embed, depth, heads, mlpRatio, eps),
          new SpaiConfig.Fre(projection, layers, radius),
          new SpaiConfig.Sca(attn, scaHeads),
          new SpaiConfig.Head(headRatio),
          new SpaiConfig.Patch(img, stride, minimum));
    } catch (IllegalArgumentException e) {
      throw new ImportException("--spai: these sizes make no valid SPAI model (" + e.getMessage() + ")", e);
    }
    String summary = String.format(Locale.ROOT,
        "ViT %d px / patch %d, width %d, depth %d, %d heads, MLP ×%s; FRE %d layers → %d; SCA %d / %d heads;"
            + " head ×%s; feature %d",
        img, patch, embed, depth, heads, trim(mlpRatio), layers.size(), projection, attn, scaHeads, trim(headRatio),
        cfg.featureDim());
    return new Plan(SpaiBundles.architecture(cfg), SpaiModel.expectation(cfg),
        Map.of(SpaiModel.INPUT_POLICY, "native"), d.lines, summary);
  }

  /** The config a plan describes. */
  public static SpaiConfig config(Plan plan) throws IOException {
    return plan.architectureAs(SpaiConfig.class);
  }

  @Override
  public List<String> hints(Collection<String> unexpectedKeys) {
    List<String> out = new ArrayList<>();
    if (unexpectedKeys.stream().anyMatch(k -> k.startsWith("visual.") || k.startsWith("trunk."))) {
      out.add("these look like OpenCLIP ConvNeXt weights (visual.trunk.*): pass that file with --convnext");
    }
    if (unexpectedKeys.stream().anyMatch(k -> k.matches(".*blocks\\.\\d+\\.gamma_[12]"))) {
      out.add("the ViT has layer scale (gamma_1/gamma_2); SPAI's release has none (MODEL.VIT.INIT_VALUES: None)"
          + " and this model does not build it");
    }
    if (unexpectedKeys.stream().anyMatch(k -> k.contains("relative_position") || k.contains("rel_pos_bias"))) {
      out.add("the ViT has relative position bias; SPAI's release uses absolute position embeddings only");
    }
    return out;
  }

  private static Long at(long[] shape, int i) {
    return SizeDecider.at(shape, i);
  }

  private static String trim(double v) {
    return SizeDecider.trim(v);
  }

  /** Which blocks feed the projectors: all of them when there is one projector per block, as upstream. */
  private static List<Integer> layers(SizeDecider d, Integer projectors, int depth, List<Integer> presetLayers)
      throws ImportException {
    String key = "fre.intermediate_layers";
    if (d.isSet(key)) {
      List<Integer> v = parseLayers(d.setting(key));
      d.set(key, v.toString(), null, null);
      return v;
    }
    if (projectors == null) {
      d.preset(key, compact(presetLayers));
      return presetLayers;
    }
    if (projectors == depth) {
      List<Integer> all = new ArrayList<>();
      for (int i = 0; i < depth; i++) {
        all.add(i);
      }
      d.note(key, compact(all), projectors + " projectors for " + depth + " blocks: every block, as upstream");
      return all;
    }
    throw new ImportException("--spai: the checkpoint has " + projectors + " patch projectors for a " + depth
        + "-block ViT, and which blocks feed them shows in no shape; pass --set fre.intermediate_layers=i,j,… with "
        + projectors + " block indices (upstream's MODEL.VIT.INTERMEDIATE_LAYERS)");
  }

  /**
   * The radius of the stored mask: its DC row holds 2r ones. The model uses the stored mask as it is; the radius
   * is recorded only to describe it, and checked against a freshly generated mask so a foreign mask is noticed.
   */
  private static int radius(SizeDecider d, int img, int presetValue) throws ImportException {
    String key = "fre.masking_radius";
    if (d.isSet(key)) {
      int v = SizeDecider.parseInt(key, d.setting(key));
      d.set(key, Integer.toString(v), null, null);
      return v;
    }
    SourceTensor t = d.tensor(MASK);
    if (t == null || !Arrays.equals(t.shape(), new long[] {img, img}) || img % 2 != 0) {
      d.preset(key, Integer.toString(presetValue));
      return presetValue;
    }
    long[] mask;
    try {
      mask = t.readLongs();
    } catch (IOException e) {
      throw new ImportException("--spai: cannot read " + MASK + ": " + e.getMessage(), e);
    }
    int ones = 0;
    int row = img / 2;
    for (int x = 0; x < img; x++) {
      ones += mask[row * img + x] != 0 ? 1 : 0;
    }
    int r = ones / 2;
    if (r > 0 && Arrays.equals(mask, FrequencyMask.generate(img, r))) {
      d.note(key, Integer.toString(r), "from the values of " + MASK);
      return r;
    }
    d.note(key, Integer.toString(presetValue), "upstream preset; the stored mask is not upstream's circular mask"
        + " of any radius, and is used as stored");
    return presetValue;
  }

  private static List<Integer> parseLayers(String value) throws ImportException {
    String v = value.trim().replaceAll("^\\[|\\]$", "").trim();
    try {
      Matcher range = Pattern.compile("(\\d+)\\s*\\.\\.\\s*(\\d+)").matcher(v);
      List<Integer> out = new ArrayList<>();
      if (range.matches()) {
        int a = Integer.parseInt(range.group(1));
        int b = Integer.parseInt(range.group(2));
        if (b < a) {
          throw new NumberFormatException();
        }
        for (int i = a; i <= b; i++) {
          out.add(i);
        }
      } else {
        for (String part : v.split(",")) {
          out.add(Integer.parseInt(part.trim()));
        }
      }
      if (new TreeSet<>(out).size() != out.size()) {
        throw new ImportException("--set fre.intermediate_layers=" + value + ": a block is listed twice");
      }
      return out;
    } catch (NumberFormatException e) {
      throw new ImportException("--set fre.intermediate_layers=" + value
          + ": expected block indices like 0,4,8,11 or a range like 0..11");
    }
  }

  private static String compact(List<Integer> layers) {
    boolean consecutive = layers.size() > 2;
    for (int i = 1; i < layers.size() && consecutive; i++) {
      consecutive = layers.get(i) == layers.get(i - 1) + 1;
    }
    return consecutive ? layers.get(0) + ".." + layers.get(layers.size() - 1) : layers.toString();
  }
}
