using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Evaluation;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Onnx;

namespace QuantBuild.Engine.Tests.Evaluation;

public class EvaluatorTests
{
    [Theory]
    [InlineData(100)]
    [InlineData(7)]
    public void Fp32_top1_on_the_sample_is_the_same_whatever_the_batch_size(int batchSize)
    {
        OnnxModel model = DataSourceTests.SampleModel();
        byte[] bytes = File.ReadAllBytes(Path.Combine(TestFiles.RepoRoot, "samples", "fashion-mnist", "model.onnx"));
        using var images = NpyDataSource.Single("input", TestFiles.Sample("eval_images.npy"));
        using var labels = DataSources.OpenLabels(TestFiles.Sample("eval_labels.npy"));

        EvaluationResult result = Evaluator.Run(bytes, model, images, labels, new TopKMetric(1), "logits", batchSize, reference: null, keepOutputs: true);

        // PyTorch scores these 2000 images 91.90 % (samples/fashion-mnist/README.md).
        Assert.Equal(91.90, result.Value, 6);
        Assert.Equal(2000, result.Samples);
        Assert.Equal(100.0, result.Agreement);
        Assert.Equal(double.PositiveInfinity, result.Sqnr);
        Assert.Equal(2000, result.Outputs!.Sum(o => o.Shape[0]));
    }

    [Fact]
    public void A_model_compared_with_its_own_outputs_agrees_fully()
    {
        OnnxModel model = DataSourceTests.SampleModel();
        byte[] bytes = OnnxModelSaver.SaveToBytes(model);
        using var images = NpyDataSource.Single("input", TestFiles.Sample("calibration.npy"));
        EvaluationResult first = Evaluator.Run(bytes, model, images, null, new SqnrMetric(), "logits", 64, null, keepOutputs: true);
        EvaluationResult second = Evaluator.Run(bytes, model, images, null, new CosineMetric(), "logits", 64, first.Outputs, keepOutputs: false);
        Assert.Equal(1.0, second.Value, 6);
        Assert.Equal(100.0, second.Agreement);
    }
}
