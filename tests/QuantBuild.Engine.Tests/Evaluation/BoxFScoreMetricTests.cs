using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Evaluation;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Evaluation;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Engine.Tests.Quantization;
using QuantBuild.Onnx;

namespace QuantBuild.Engine.Tests.Evaluation;

/// <summary>The DB box F-score on probability maps shaped like PP-OCRv4's detector output [n, 1, H, W].</summary>
public sealed class BoxFScoreMetricTests : IDisposable
{
    private const int Side = 64;
    private readonly string _dir = Directory.CreateTempSubdirectory("qb-box-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_kernel_region_is_grown_back_by_area_times_one_and_a_half_over_perimeter()
    {
        float[] map = Map((10, 20, 30, 26, 0.9f));   // 20 × 6 kernel: grow = 120·1.5 / 52 = 3.46 → 3 px each side
        var boxes = BoxFScoreMetric.Detect(map, Side, Side);
        Assert.Equal([(7, 17, 33, 29)], boxes);
    }

    [Fact]
    public void Weak_regions_and_slivers_are_not_boxes()
    {
        float[] map = Map((5, 5, 25, 12, 0.5f), (40, 40, 60, 42, 0.95f));   // mean 0.5 < 0.6; 2 px tall < 3
        Assert.Empty(BoxFScoreMetric.Detect(map, Side, Side));
    }

    [Fact]
    public void Matching_is_one_to_one_at_iou_one_half()
    {
        var truth = new List<(int, int, int, int)> { (0, 0, 20, 10), (30, 30, 50, 40) };
        var predicted = new List<(int, int, int, int)> { (0, 0, 20, 10), (1, 0, 21, 10), (30, 30, 40, 40) };   // a duplicate; half overlap (IoU 0.5)
        Assert.Equal(2, BoxFScoreMetric.Matches(predicted, truth));
        Assert.Equal(0, BoxFScoreMetric.Matches([(30, 30, 39, 40)], truth));   // IoU 0.45
    }

    [Fact]
    public void Through_the_evaluator_a_sigmoid_head_run_by_onnx_runtime_scores_boxes_read_from_npy()
    {
        // Page 0: both lines found. Page 1: one line found, one missed, one false box → F = 2·3 / (4 + 4) = 75 %.
        OnnxModel model = TestGraphs.NewModel();
        model.Graph.Inputs.Add(TestGraphs.Value("logits", ElementType.Float, "n", 1, Side, Side));
        model.Graph.Outputs.Add(TestGraphs.Value("map", ElementType.Float, "n", 1, Side, Side));
        model.Graph.AddNode("Sigmoid", "head", ["logits"], ["map"]);
        float[] page0 = Logits(Map((10, 10, 40, 16, 0.9f), (10, 40, 50, 46, 0.9f)));
        float[] page1 = Logits(Map((10, 10, 40, 16, 0.9f), (45, 50, 60, 56, 0.9f)));
        string inputs = Path.Combine(_dir, "logits.npy");
        string labels = Path.Combine(_dir, "boxes.npy");
        DataSourceTests.WriteNpy(inputs, DenseTensor.FromFloats([.. page0, .. page1], 2, 1, Side, Side));
        int[] boxes =
        [
            7, 7, 43, 19, 7, 37, 53, 49, -1, -1, -1, -1,
            7, 7, 43, 19, 7, 37, 53, 49, -1, -1, -1, -1,
        ];
        DataSourceTests.WriteNpy(labels, DenseTensor.Create(ElementType.Int32, boxes, [2, 3, 4]));
        using var source = NpyDataSource.Single("logits", inputs);
        using var labelSource = DataSources.OpenLabels(labels);

        EvaluationResult result = Evaluator.Run(OnnxModelSaver.SaveToBytes(model), model, source, labelSource, new BoxFScoreMetric(), "map",
            batchSize: 1, reference: null, keepOutputs: false);

        Assert.Equal(75.0, result.Value, 9);
    }

    [Fact]
    public void Labels_that_are_not_boxes_per_map_are_QB1302()
    {
        var map = DenseTensor.FromFloats(Map(), 1, 1, Side, Side);
        var flat = DenseTensor.Create(ElementType.Int32, new[] { 1, 2, 3, 4 }, [1, 4]);
        var e = Assert.Throws<QuantBuildException>(() => new BoxFScoreMetric().Start().Add(new MetricBatch(map, null, flat)));
        Assert.Equal("QB1302", e.Code);
    }

    private static float[] Map(params (int X0, int Y0, int X1, int Y1, float P)[] regions)
    {
        var map = new float[Side * Side];
        for (int i = 0; i < map.Length; i++)
        {
            map[i] = i * 7 % 23 / 100f;   // background noise below the 0.3 threshold
        }

        foreach ((int x0, int y0, int x1, int y1, float p) in regions)
        {
            for (int y = y0; y < y1; y++)
            {
                for (int x = x0; x < x1; x++)
                {
                    map[y * Side + x] = p;
                }
            }
        }

        return map;
    }

    private static float[] Logits(float[] probabilities) =>
        probabilities.Select(p => (float)Math.Log(Math.Max(p, 1e-6) / Math.Max(1 - p, 1e-6))).ToArray();
}
