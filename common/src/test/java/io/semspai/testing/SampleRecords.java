package io.semspai.testing;

import io.semspai.avro.BranchScores;
import io.semspai.avro.DeadLetter;
import io.semspai.avro.FailureStage;
import io.semspai.avro.FeatureVector;
import io.semspai.avro.Feedback;
import io.semspai.avro.FeedbackLabel;
import io.semspai.avro.HoldoutMetrics;
import io.semspai.avro.ImageEvent;
import io.semspai.avro.ImageReference;
import io.semspai.avro.InlineImage;
import io.semspai.avro.Label;
import io.semspai.avro.LabelerKind;
import io.semspai.avro.ModelRelease;
import io.semspai.avro.PatchAttention;
import io.semspai.avro.ReleaseStatus;
import io.semspai.avro.ThresholdProfile;
import io.semspai.avro.Thresholds;
import io.semspai.avro.Timings;
import io.semspai.avro.Verdict;
import io.semspai.avro.VerdictStatus;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;

/** One realistic, fully populated record of every schema, for serde and topic tests. */
public final class SampleRecords {
  public static final Instant T0 = Instant.parse("2026-11-27T12:00:00Z").truncatedTo(ChronoUnit.MILLIS);

  private SampleRecords() {}

  public static ImageEvent imageEventByUri(String id) {
    return ImageEvent.newBuilder().setEventId(id).setImage(new ImageReference("https://cdn.example.org/p/" + id + ".jpg"))
        .setSourcePlatform("demo").setPostId("post-" + id).setAuthorId("author-7").setIngestedAt(T0)
        .setAttributes(Map.of("lang", "en")).build();
  }

  public static ImageEvent imageEventInline(String id, byte[] bytes) {
    return ImageEvent.newBuilder().setEventId(id).setImage(new InlineImage(ByteBuffer.wrap(bytes), "image/png"))
        .setSourcePlatform("demo").setIngestedAt(T0).build();
  }

  public static Verdict verdict(String id) {
    return Verdict.newBuilder().setEventId(id).setSha256("ab".repeat(32)).setStatus(VerdictStatus.OK)
        .setScore(0.91).setLabel(Label.AI).setProfile(new ThresholdProfile("balanced", 0.3, 0.7))
        .setBranchScores(new BranchScores(0.8, 0.91)).setModelVersion("1.0.0")
        .setAttention(List.of(new PatchAttention(0, 0, 224, 224, 0.6f), new PatchAttention(224, 0, 224, 224, 0.4f)))
        .setImageWidth(448).setImageHeight(224).setDeduplicated(false)
        .setTimings(new Timings(1.0, 2.0, 3.0, 40.0, 46.0)).setProducedAt(T0).build();
  }

  public static Feedback feedback(String sha) {
    return Feedback.newBuilder().setSha256(sha).setEventId("e-1").setSourcePlatform("demo").setLabel(FeedbackLabel.AI)
        .setLabelerId("mod-3").setLabelerKind(LabelerKind.MODERATOR).setConfidence(0.9f).setLabeledAt(T0).build();
  }

  public static ModelRelease release(String version) {
    return ModelRelease.newBuilder().setModelName("semspai").setVersion(version)
        .setArtifactUri("file:///models/semspai-" + version + ".tar").setArtifactSha256("cd".repeat(32))
        .setMetrics(new HoldoutMetrics(0.97, 0.96, 0.91, 0.03, 0.93, "n=200;h=1234abcd", 200))
        .setThresholds(Map.of("balanced", new Thresholds(0.4, 0.6), "strict", new Thresholds(0.2, 0.9)))
        .setParentVersion("0.9.0").setStatus(ReleaseStatus.PROMOTED).setReasons(List.of("all gates passed"))
        .setCreatedAt(T0).build();
  }

  public static DeadLetter deadLetter(String id) {
    return DeadLetter.newBuilder().setEventId(id).setOriginalValue(ByteBuffer.wrap(new byte[] {1, 2, 3}))
        .setOriginalLength(3).setOriginalSha256("ef".repeat(32)).setTruncated(false).setEvent(imageEventByUri(id))
        .setSourceTopic("semspai.image-events").setSourcePartition(0).setSourceOffset(42L)
        .setStage(FailureStage.FETCH).setReasonCode("HTTP_4XX").setMessage("404 Not Found").setOriginalTimestamp(T0)
        .setFailedAt(T0).build();
  }

  public static FeatureVector features(String sha) {
    return FeatureVector.newBuilder().setSha256(sha).setBackboneSha256("01".repeat(32))
        .setSpectral(List.of(0.1f, 0.2f)).setSemantic(List.of(0.3f)).setModelVersion("1.0.0").setCreatedAt(T0).build();
  }
}
