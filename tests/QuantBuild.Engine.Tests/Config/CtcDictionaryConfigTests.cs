using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Config;

namespace QuantBuild.Engine.Tests.Config;

/// <summary><c>evaluation.dictionary</c>: required by <c>ctc_exact_line</c>, refused elsewhere, checked at its yaml line.</summary>
public sealed class CtcDictionaryConfigTests : IDisposable
{
    private readonly ConfigFolder _dir = new();

    public CtcDictionaryConfigTests() => File.WriteAllText(_dir.P("keys.txt"), "'\n疗\n2\n0\n");

    public void Dispose() => _dir.Dispose();

    // Line numbers count from "model:" as line 1.
    private const string Recognizer = """
        model: model.onnx
        calibration:
          data: data/calibration.npy
        evaluation:
          data: data/eval_images.npy
          labels: data/eval_labels.npy
          metric: ctc_exact_line
          dictionary: keys.txt
        targets:
          x64:
            device: cpu-x64-vnni
        """;

    private static void AssertAt(QuantBuildException e, string code, int line, int column) =>
        Assert.True((code, line, column) == (e.Code, e.Line, e.Column), $"expected {code} at ({line},{column}), got {e.ToDiagnosticString()}");

    [Fact]
    public void The_dictionary_resolves_from_the_yaml_folder_and_reaches_the_config()
    {
        QuantizeConfig config = _dir.Load(Recognizer);
        Assert.Equal("ctc_exact_line", config.Evaluation!.Metric);
        Assert.Equal(_dir.P("keys.txt"), config.Evaluation.DictionaryPath);
    }

    [Fact]
    public void Ctc_exact_line_without_a_dictionary_is_a_missing_key_at_the_metric()
    {
        QuantBuildException e = _dir.SingleError(Recognizer.Replace("  dictionary: keys.txt\n", string.Empty));
        AssertAt(e, ConfigErrorCodes.MissingKey, 7, 11);
        Assert.Contains("dictionary", e.Message);
    }

    [Fact]
    public void Ctc_exact_line_without_labels_is_refused_like_every_label_metric()
    {
        QuantBuildException e = _dir.SingleError(Recognizer.Replace("  labels: data/eval_labels.npy\n", string.Empty));
        AssertAt(e, ConfigErrorCodes.LabelsRequired, 6, 11);
    }

    [Fact]
    public void A_dictionary_with_another_metric_is_a_conflict_at_its_key()
    {
        QuantBuildException e = _dir.SingleError(Recognizer.Replace("metric: ctc_exact_line", "metric: top1"));
        AssertAt(e, ConfigErrorCodes.Conflict, 8, 3);
    }

    [Fact]
    public void A_missing_dictionary_file_is_not_found_at_its_value()
    {
        QuantBuildException e = _dir.SingleError(Recognizer.Replace("dictionary: keys.txt", "dictionary: kyes.txt"));
        AssertAt(e, ConfigErrorCodes.FileNotFound, 8, 15);
    }

    [Theory]
    [InlineData(new byte[] { 0x41, 0x0A, 0xC3, 0x28, 0x0A }, "not UTF-8")]
    [InlineData(new byte[] { 0x41, 0x0A, 0x0A, 0x42, 0x0A }, "line 2")]
    public void A_dictionary_that_cannot_map_classes_is_refused_at_its_value(byte[] content, string why)
    {
        File.WriteAllBytes(_dir.P("keys.txt"), content);
        QuantBuildException e = _dir.SingleError(Recognizer);
        AssertAt(e, ConfigErrorCodes.UnsupportedData, 8, 15);
        Assert.Contains(why, e.Message);
    }

    [Fact]
    public void An_empty_dictionary_is_refused_as_an_unreadable_file_at_its_value()
    {
        // Every path the config names is checked to be a readable, non-empty regular file before its content is read.
        File.WriteAllBytes(_dir.P("keys.txt"), []);
        QuantBuildException e = _dir.SingleError(Recognizer);
        AssertAt(e, "QB1020", 8, 15);
        Assert.Contains("is empty", e.Message);
    }
}
