package io.semspai.trainer;

import io.semspai.avro.LabelerKind;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;

/**
 * The fixed holdout: an image belongs to it when its sha256, read as a big-endian number, is 0 mod 5 and its label
 * comes from a trusted dataset or a moderator. The rule depends on nothing but the image, so the holdout never
 * drifts and a holdout image never enters training, on any machine, after any restart.
 */
public final class Holdout {
  private static final BigInteger FIVE = BigInteger.valueOf(5);

  private Holdout() {}

  /** Whether the image's bytes put it in the holdout bucket (before the labeler-kind rule). */
  public static boolean inBucket(String sha256) {
    return new BigInteger(1, HexFormat.of().parseHex(sha256)).mod(FIVE).signum() == 0;
  }

  public static boolean isHoldout(String sha256, LabelerKind strongestKind) {
    return inBucket(sha256) && (strongestKind == LabelerKind.TRUSTED_DATASET || strongestKind == LabelerKind.MODERATOR);
  }

  /** A holdout's identity: its member count and a hash of its sorted sha256 list, e.g. {@code n=812;h=3fa1…}. */
  public static String version(Collection<String> members) {
    List<String> sorted = members.stream().sorted().toList();
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (String s : sorted) {
        md.update(s.getBytes(StandardCharsets.US_ASCII));
        md.update((byte) '\n');
      }
      return "n=" + sorted.size() + ";h=" + HexFormat.of().formatHex(md.digest()).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
