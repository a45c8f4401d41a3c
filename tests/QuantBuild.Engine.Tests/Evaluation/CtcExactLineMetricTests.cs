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

/// <summary>
/// The CTC exact-line metric on PaddleOCR's real dictionary and the PP-OCRv4 recognizer's real output shape
/// [n, 40 steps, 6625 classes]: class 0 blank, classes 1..6623 the dictionary's lines, class 6624 the space.
/// </summary>
public sealed class CtcExactLineMetricTests : IDisposable
{
    private const int Steps = 40;
    private const int Classes = 6625;
    private static readonly string DictionaryPath = Path.Combine(TestFiles.RepoRoot, "tests", "QuantBuild.Engine.Tests", "Evaluation", "Fixtures", "ppocr_keys_v1.txt");
    private static readonly IReadOnlyList<string> Dictionary = CtcExactLineMetric.ReadDictionary(DictionaryPath);
    private readonly string _dir = Directory.CreateTempSubdirectory("qb-ctc-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_real_dictionary_has_room_for_blank_and_space_in_the_recognizers_6625_classes()
    {
        Assert.Equal(6623, Dictionary.Count);
        string?[] table = CtcExactLineMetric.Load(DictionaryPath).ClassTable(Classes);
        Assert.Null(table[0]);
        Assert.Equal("'", table[1]);
        Assert.Equal(" ", table[6624]);
        Assert.Equal("疗", table[2]);
    }

    [Fact]
    public void Greedy_decoding_merges_repeats_only_when_no_blank_separates_them()
    {
        // "2026-08-07": the two 0s of "2026" are separated by '2', the "0" and "8" in "08" are not repeats; a held
        // character over three steps is one character, and "77" needs a blank between its steps.
        float[] row = Row(Steps, "2", "2", "2", "0", "2", "6", "-", "0", "8", "-", "0", "7", "", "7");
        string?[] table = CtcExactLineMetric.Load(DictionaryPath).ClassTable(Classes);
        Assert.Equal("2026-08-077", CtcExactLineMetric.Decode(row, table));
    }

    [Fact]
    public void Lines_count_only_when_every_inner_character_matches_and_end_spaces_are_ignored()
    {
        var metric = CtcExactLineMetric.Load(DictionaryPath);
        string[] labels = ["Total: $891.76", "中国 2026", "north bank 74"];
        var output = Batch(
            Row(Steps, " ", "T", "o", "t", "a", "l", ":", " ", "$", "8", "9", "1", ".", "7", "6", " "),   // margins read as spaces
            Row(Steps, "中", "国", " ", "2", "0", "2", "6"),
            Row(Steps, "n", "o", "r", "t", "h", "b", "a", "n", "k", " ", "7", "4"));                     // inner space dropped
        IMetricAccumulator tally = metric.Start();
        tally.Add(new MetricBatch(output, null, Labels(labels)));
        Assert.Equal(200.0 / 3, tally.Result(), 9);
    }

    [Fact]
    public void A_tie_between_classes_decodes_as_the_lowest_index_as_argmax_does()
    {
        string?[] table = CtcExactLineMetric.Load(DictionaryPath).ClassTable(Classes);
        int a = Array.IndexOf(table, "a");
        int b = Array.IndexOf(table, "b");
        float[] aFirst = Row(Steps, "a");
        aFirst[b] = aFirst[a];   // step 0: 'a' and 'b' tie
        float[] bFirst = Row(Steps, "b");
        bFirst[a] = bFirst[b];
        string lower = table[Math.Min(a, b)]!;
        Assert.Equal(lower, CtcExactLineMetric.Decode(aFirst, table));
        Assert.Equal(lower, CtcExactLineMetric.Decode(bFirst, table));
    }

    [Fact]
    public void A_class_count_that_fits_neither_layout_is_QB1300_naming_the_dictionary()
    {
        var metric = CtcExactLineMetric.Load(DictionaryPath);
        var e = Assert.Throws<QuantBuildException>(() => metric.ClassTable(6626));
        Assert.Equal("QB1300", e.Code);
        Assert.Contains("ppocr_keys_v1.txt", e.Message);
        Assert.Contains("6623 entries", e.Message);

        var flat = DenseTensor.Zeros(ElementType.Float, 2, Classes);
        var rank = Assert.Throws<QuantBuildException>(() => metric.Start().Add(new MetricBatch(flat, null, Labels(["a", "b"]))));
        Assert.Equal("QB1300", rank.Code);
    }

    [Fact]
    public void A_label_that_is_not_a_code_point_is_QB1301_and_a_row_count_mismatch_QB1256()
    {
        var metric = CtcExactLineMetric.Load(DictionaryPath);
        var surrogate = DenseTensor.Create(ElementType.Int32, new[] { 0x41, 0xD800, 0 }, [1, 3]);
        var e = Assert.Throws<QuantBuildException>(() => metric.Start().Add(new MetricBatch(Batch(Row(Steps, "A")), null, surrogate)));
        Assert.Equal("QB1301", e.Code);

        var rows = Assert.Throws<QuantBuildException>(() => metric.Start().Add(new MetricBatch(Batch(Row(Steps, "A")), null, Labels(["A", "B"]))));
        Assert.Equal("QB1256", rows.Code);
    }

    [Fact]
    public void Through_the_evaluator_a_softmax_head_run_by_onnx_runtime_scores_the_labels_read_from_npy()
    {
        // The recognizer ends in Softmax over [n, 40, 6625]; ONNX Runtime runs that head over logits spelling
        // five lines, and labels come from an int32 [n, 40] code-point .npy as make_data.py writes them.
        OnnxModel model = TestGraphs.NewModel();
        model.Graph.Inputs.Add(TestGraphs.Value("logits", ElementType.Float, "n", Steps, Classes));
        model.Graph.Outputs.Add(TestGraphs.Value("probs", ElementType.Float, "n", Steps, Classes));
        model.Graph.AddNode("Softmax", "head", ["logits"], ["probs"], NodeAttribute.FromInt("axis", -1));
        string[] truth = ["SDL-1571", "House Thing", "EUR 12.05", "读书", "People"];
        string[] read = ["SDL-1571", "HouseThing", "EUR 12.05", "读书", "Peop1e"];
        string logits = Path.Combine(_dir, "logits.npy");
        string labels = Path.Combine(_dir, "labels.npy");
        DataSourceTests.WriteNpy(logits, Batch(read.Select(t => Row(Steps, t.Select(c => c.ToString()).ToArray())).ToArray()));
        DataSourceTests.WriteNpy(labels, Labels(truth));
        using var inputs = NpyDataSource.Single("logits", logits);
        using var labelSource = DataSources.OpenLabels(labels);

        EvaluationResult result = Evaluator.Run(OnnxModelSaver.SaveToBytes(model), model, inputs, labelSource,
            CtcExactLineMetric.Load(DictionaryPath), "probs", batchSize: 2, reference: null, keepOutputs: false);

        Assert.Equal(60.0, result.Value, 9);
        Assert.Equal(5, result.Samples);
    }

    /// <summary>One row of logits [steps, classes]: step t favours the class of <paramref name="spelled"/>[t] ("" is the blank), later steps are blank.</summary>
    private static float[] Row(int steps, params string[] spelled)
    {
        var row = new float[steps * Classes];
        for (int t = 0; t < steps; t++)
        {
            int cls = t >= spelled.Length || spelled[t].Length == 0 ? 0 : spelled[t] == " " ? Classes - 1 : Class(spelled[t]);
            for (int c = 0; c < Classes; c++)
            {
                // Realistic logits: a spread of small values, one clear winner.
                row[t * Classes + c] = (c * 7919 + t * 104729) % 1000 / 1000f - 4f;
            }

            row[t * Classes + cls] = 9f;
        }

        return row;
    }

    private static int Class(string character)
    {
        int index = Dictionary.ToList().IndexOf(character);
        Assert.True(index >= 0, $"'{character}' is not in the dictionary");
        return index + 1;
    }

    private static DenseTensor Batch(params float[][] rows) =>
        DenseTensor.FromFloats(rows.SelectMany(r => r).ToArray(), rows.Length, Steps, Classes);

    private static DenseTensor Labels(string[] lines)
    {
        var codes = new int[lines.Length * Steps];
        for (int i = 0; i < lines.Length; i++)
        {
            int[] line = lines[i].EnumerateRunes().Select(r => r.Value).ToArray();
            line.CopyTo(codes, i * Steps);
        }

        return DenseTensor.Create(ElementType.Int32, codes, [lines.Length, Steps]);
    }
}
