using QuantBuild.Abstractions.Evaluation;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Evaluation;

namespace QuantBuild.Engine.Tests.Evaluation;

public class MetricTests
{
    private static DenseTensor Scores(int rows, params float[] values) => DenseTensor.FromFloats(values, rows, values.Length / rows);

    private static DenseTensor Labels(params long[] labels) => DenseTensor.Create(ElementType.Int64, labels, new long[] { labels.Length });

    private static double Score(IMetric metric, DenseTensor output, DenseTensor? reference = null, DenseTensor? labels = null)
    {
        IMetricAccumulator tally = metric.Start();
        tally.Add(new MetricBatch(output, reference, labels));
        return tally.Result();
    }

    [Fact]
    public void Top1_breaks_ties_toward_the_lowest_index_like_argmax()
    {
        // Row 0: classes 1 and 2 tie; argmax picks 1, so label 2 is a miss and label 1 a hit.
        DenseTensor output = Scores(2, 0f, 5f, 5f, 0f, 5f, 5f);
        Assert.Equal(50.0, Score(new TopKMetric(1), output, labels: Labels(2, 1)));
    }

    [Fact]
    public void Top1_counts_all_equal_logits_as_class_zero()
    {
        DenseTensor output = Scores(3, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f);
        Assert.Equal(100.0 / 3, Score(new TopKMetric(1), output, labels: Labels(0, 1, 2)), 9);
    }

    [Fact]
    public void Top5_hits_when_the_label_ranks_within_five()
    {
        float[] row = { 9, 8, 7, 6, 5, 4, 3 };
        Assert.Equal(100.0, Score(new TopKMetric(5), Scores(1, row), labels: Labels(4)));
        Assert.Equal(0.0, Score(new TopKMetric(5), Scores(1, row), labels: Labels(5)));
    }

    [Fact]
    public void Accuracy_accumulates_across_batches()
    {
        IMetricAccumulator tally = new TopKMetric(1).Start();
        tally.Add(new MetricBatch(Scores(2, 1f, 0f, 0f, 1f), null, Labels(0, 0)));
        tally.Add(new MetricBatch(Scores(2, 1f, 0f, 0f, 1f), null, Labels(0, 1)));
        Assert.Equal(75.0, tally.Result());
    }

    [Fact]
    public void Agreement_compares_argmax_with_the_fp32_outputs()
    {
        DenseTensor reference = Scores(2, 1f, 2f, 3f, 0f);
        DenseTensor quantized = Scores(2, 1f, 1f, 3f, 0f); // row 0 ties at index 0 → disagrees with fp32's class 1
        Assert.Equal(50.0, Score(new AgreementMetric(), quantized, reference));
    }

    [Fact]
    public void Sqnr_is_ten_log10_of_signal_over_noise()
    {
        DenseTensor reference = Scores(1, 3f, 4f);
        DenseTensor quantized = Scores(1, 3f, 3.5f);
        // signal 25, noise 0.25 → 20 dB
        Assert.Equal(20.0, Score(new SqnrMetric(), quantized, reference), 9);
        Assert.Equal(double.PositiveInfinity, Score(new SqnrMetric(), reference, reference));
    }

    [Fact]
    public void Cosine_and_max_abs_error_compare_row_vectors()
    {
        DenseTensor reference = Scores(2, 1f, 0f, 0f, 2f);
        DenseTensor quantized = Scores(2, 0f, 1f, 0f, 3f);
        Assert.Equal(0.5, Score(new CosineMetric(), quantized, reference), 9);
        Assert.Equal(1.0, Score(new MaxAbsErrorMetric(), quantized, reference), 9);
    }

    [Fact]
    public void Labels_outside_the_classes_are_refused()
    {
        var e = Assert.Throws<QuantBuild.Abstractions.Diagnostics.QuantBuildException>(() => Score(new TopKMetric(1), Scores(1, 1f, 2f), labels: Labels(7)));
        Assert.Equal("QB1257", e.Code);
    }
}
