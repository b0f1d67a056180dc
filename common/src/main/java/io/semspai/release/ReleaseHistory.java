package io.semspai.release;

import io.semspai.avro.ModelRelease;
import io.semspai.avro.ReleaseStatus;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What the model-releases topic says about one model, read in topic order: the release to serve is the newest
 * PROMOTED one not later ROLLED_BACK. The detector and the trainer both decide "the champion" with this class.
 */
public final class ReleaseHistory {
  private final String modelName;
  private final Map<String, ModelRelease> promoted = new HashMap<>();
  private final Set<String> eligible = new LinkedHashSet<>();
  private final Map<String, ModelRelease> latestByVersion = new HashMap<>();

  public ReleaseHistory(String modelName) {
    this.modelName = modelName;
  }

  /** Takes the next release event in topic order; events of other models are ignored. */
  public void record(ModelRelease r) {
    if (r == null || !modelName.equals(r.getModelName())) {
      return;
    }
    latestByVersion.put(r.getVersion(), r);
    if (r.getStatus() == ReleaseStatus.PROMOTED) {
      promoted.put(r.getVersion(), r);
      eligible.remove(r.getVersion());
      eligible.add(r.getVersion()); // newest last
    } else if (r.getStatus() == ReleaseStatus.ROLLED_BACK) {
      eligible.remove(r.getVersion());
    }
  }

  /** The release to serve, skipping versions in {@code refused}. */
  public Optional<ModelRelease> target(Set<String> refused) {
    ModelRelease t = null;
    for (String v : eligible) {
      if (!refused.contains(v)) {
        t = promoted.get(v);
      }
    }
    return Optional.ofNullable(t);
  }

  public Optional<ModelRelease> target() {
    return target(Set.of());
  }

  /** The last event seen for a version (any status). */
  public Optional<ModelRelease> latest(String version) {
    return Optional.ofNullable(latestByVersion.get(version));
  }

  /** The last PROMOTED event of a version, even if it was rolled back since. */
  public Optional<ModelRelease> promotedRelease(String version) {
    return Optional.ofNullable(promoted.get(version));
  }

  public String modelName() {
    return modelName;
  }
}
