package io.semspai.spai;

/**
 * Floating-point operations of SPAI's forward, counted from a config: 2 per multiply-add of every matrix product
 * (Linear layers, the patch-embedding convolution, the attention products). Normalisation, activations, softmax,
 * the FFTs and the statistics are left out; together they are under 1% of the total at the full size (the three
 * FFTs of a patch are ~0.2 GFLOP against ~131). This is the convention timm and OpenCLIP use in their profiles,
 * where ViT-B/16 at 224 px is 35.1 GFLOPs.
 *
 * <p>Per patch, with T = tokens + 1 (CLS), E the ViT width, M its MLP width, P the projection width and L the
 * number of intermediate layers:
 *
 * <pre>
 *   ViT pass     = 2·(T−1)·E·3p²                                  patch embedding (a p×p, stride-p conv)
 *                + B · 2·(T·E·3E + T²·E + T²·E + T·E·E + 2·T·E·M)  per block: qkv, q·kᵀ, attn·v, proj, MLP
 *                  (B = blocks run = last intermediate layer + 1)
 *   3 ViT passes   original, low-pass and high-pass image
 *   FRE          = L · 3 · 2·(T−1)·(E·P + P·P)                     shared projector, 3 images, CLS dropped
 *   importance   = L · 2·(2P·P + P·P) + 2·(P·P + P·P)               proj1 per layer, proj2 once
 *   SCA keys     = 2·D·2A                                           to_kv (D = 6L + P, A = SCA width)
 * </pre>
 *
 * and once per image of N patches: the SCA query products {@code 2·2·N·A}, {@code to_out} {@code 2·A·D} and the head
 * {@code 2·(D·H + H·H + H)} (H = head width). Full preset: 35.13 GFLOPs per ViT pass, 131.4 GFLOPs per patch.
 */
public record SpaiFlops(
    double vitPass, double freProjectors, double importanceProjector, double scaKeys, double perImageBase,
    double perImagePerPatch) {

  public static SpaiFlops of(SpaiConfig cfg) {
    SpaiConfig.Vit v = cfg.vit();
    double tokens = v.tokens();
    double t = tokens + 1;
    double e = v.embedDim();
    double m = v.mlpHidden();
    double p = cfg.fre().projectionDim();
    double layers = cfg.fre().layers();
    int blocks = cfg.fre().intermediateLayers().stream().mapToInt(Integer::intValue).max().orElseThrow() + 1;
    double patchEmbed = 2 * tokens * e * 3.0 * v.patchSize() * v.patchSize();
    double block = 2 * (t * e * 3 * e + 2 * t * t * e + t * e * e + 2 * t * e * m);
    double vit = patchEmbed + blocks * block;
    double fre = layers * 3 * 2 * tokens * (e * p + p * p);
    double importance = layers * 2 * (2 * p * p + p * p) + 2 * (p * p + p * p);
    double d = cfg.featureDim();
    double a = cfg.sca().attnEmbedDim();
    double h = cfg.headHidden();
    double keys = 2 * d * 2 * a;
    double perImage = 2 * a * d + 2 * (d * h + h * h + h);
    return new SpaiFlops(vit, fre, importance, keys, perImage, 2 * 2 * a);
  }

  /** FLOPs of one patch through the encoder and the SCA keys. */
  public double perPatch() {
    return 3 * vitPass + freProjectors + importanceProjector + scaKeys;
  }

  /** FLOPs of one image of {@code patches} patches, aggregation and head included. */
  public double perImage(int patches) {
    return patches * (perPatch() + perImagePerPatch) + perImageBase;
  }
}
