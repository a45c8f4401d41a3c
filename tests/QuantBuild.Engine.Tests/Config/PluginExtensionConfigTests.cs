using System.ComponentModel.DataAnnotations;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Config;

namespace QuantBuild.Engine.Tests.Config;

/// <summary>
/// Plugin data readers (<c>data: {reader: id/name, path, options}</c>) and metrics (<c>metric: id/name</c> with
/// <c>metric_options</c>) are validated with the rest of the file: names against the loaded plugins, options against
/// their types, every error at its own line and column.
/// </summary>
public sealed class PluginExtensionConfigTests : IDisposable
{
    private readonly ConfigFolder _dir = new();

    public PluginExtensionConfigTests() => Directory.CreateDirectory(_dir.P("images"));

    public void Dispose() => _dir.Dispose();

    public sealed class ImageOptions
    {
        [Range(1e-9, 1.0)]
        public double Scale { get; set; } = 1;

        public List<double> Mean { get; set; } = [0.0];
    }

    public sealed class F1Options
    {
        public string Average { get; set; } = "macro";
    }

    private static readonly ConfigValidationOptions Known = new()
    {
        KnownExtensions =
        [
            new KnownExtension("contoso/images", ExtensionKind.DataReader, "Contoso.Vision", typeof(ImageOptions)),
            new KnownExtension("contoso/f1", ExtensionKind.Metric, "Contoso.Vision", typeof(F1Options), NeedsLabels: true, 0, 100),
        ],
    };

    private static string Yaml(string calibrationData, string evaluation = "") => $"""
        model: model.onnx
        calibration:
          data: {calibrationData}
        {evaluation}
        targets:
          x64:
            device: cpu-x64-vnni
        """;

    [Fact]
    public void A_reader_with_its_options_binds_to_a_reader_source()
    {
        QuantizeConfig c = _dir.Load(Yaml("{reader: contoso/images, path: images, options: {scale: 0.5, mean: [0.25]}}"), Known);

        DataSourceConfig data = c.Calibration.Data;
        Assert.Equal((DataSourceKind.Reader, "contoso/images", _dir.P("images")), (data.Kind, data.Reader, data.Path));
        Assert.Equal(["scale", "mean"], data.ReaderOptions!.Keys);
        Assert.True(c.UsesPluginExtensions);
    }

    [Fact]
    public void An_unknown_reader_is_QB1013_at_its_line_with_a_suggestion()
    {
        QuantBuildException e = _dir.SingleError(Yaml("\n    reader: contoso/imagez\n    path: images"), Known);

        Assert.Equal((ConfigErrorCodes.UnknownValue, 4, 13), (e.Code, e.Line, e.Column));
        Assert.Contains("unknown data reader 'contoso/imagez'", e.Message);
        Assert.Contains("Did you mean 'contoso/images'?", e.Message);
    }

    [Fact]
    public void A_reader_option_out_of_range_is_reported_at_the_options_own_line_and_column()
    {
        QuantBuildException e = _dir.SingleError(Yaml("\n    reader: contoso/images\n    path: images\n    options:\n      scale: 255"), Known);

        Assert.Equal((7, 14), (e.Line, e.Column));
        Assert.Contains("scale", e.Message);
    }

    [Fact]
    public void A_reader_needs_a_path_that_exists_and_a_qualified_name()
    {
        IReadOnlyList<QuantBuildException> errors = _dir.Errors(Yaml("\n    reader: images\n    path: missing"), Known);

        Assert.Contains(errors, e => e.Code == ConfigErrorCodes.UnknownValue && e.Line == 4 && e.Message.Contains("<plugin id>/<reader>"));
        Assert.Contains(errors, e => e.Code == ConfigErrorCodes.FileNotFound && e.Line == 5);
    }

    [Fact]
    public void An_unknown_key_beside_reader_is_QB1003()
    {
        QuantBuildException e = _dir.SingleError(Yaml("\n    reader: contoso/images\n    path: images\n    scale: 2"), Known);

        Assert.Equal((ConfigErrorCodes.UnknownKey, 6), (e.Code, e.Line));
    }

    [Fact]
    public void A_plugin_metric_with_options_binds_and_its_range_bounds_the_gate()
    {
        string evaluation = "evaluation:\n  data: data/eval_images.npy\n  labels: data/eval_labels.npy\n  metric: contoso/f1\n  metric_options: {average: weighted}\ngate:\n  min: 140";

        QuantBuildException e = _dir.SingleError(Yaml("data/calibration.npy", evaluation), Known);

        Assert.Equal((ConfigErrorCodes.OutOfRange, 10), (e.Code, e.Line));
        Assert.Contains("contoso/f1's range 0 to 100", e.Message);
    }

    [Fact]
    public void A_plugin_metric_that_needs_labels_without_them_is_QB1012()
    {
        string evaluation = "evaluation:\n  data: data/eval_images.npy\n  metric: contoso/f1";

        QuantBuildException e = _dir.SingleError(Yaml("data/calibration.npy", evaluation), Known);

        Assert.Equal((ConfigErrorCodes.LabelsRequired, 6), (e.Code, e.Line));
    }

    [Fact]
    public void An_unknown_metric_option_is_QB1003_at_its_line()
    {
        string evaluation = "evaluation:\n  data: data/eval_images.npy\n  labels: data/eval_labels.npy\n  metric: contoso/f1\n  metric_options:\n    averge: macro";

        QuantBuildException e = _dir.SingleError(Yaml("data/calibration.npy", evaluation), Known);

        Assert.Equal((ConfigErrorCodes.UnknownKey, 9), (e.Code, e.Line));
        Assert.Contains("average", e.Message);
    }

    [Fact]
    public void Metric_options_with_a_built_in_metric_are_a_conflict()
    {
        string evaluation = "evaluation:\n  data: data/eval_images.npy\n  labels: data/eval_labels.npy\n  metric: top1\n  metric_options: {k: 2}";

        QuantBuildException e = _dir.SingleError(Yaml("data/calibration.npy", evaluation), Known);

        Assert.Equal((ConfigErrorCodes.Conflict, 8), (e.Code, e.Line));
    }

    [Fact]
    public void Without_the_plugins_known_names_and_options_are_left_to_the_run()
    {
        string evaluation = "evaluation:\n  data: data/eval_images.npy\n  metric: someone/else\n  metric_options: {anything: 1}";

        QuantizeConfig c = _dir.Load(Yaml("{reader: other/reader, path: images, options: {x: 1}}", evaluation));

        Assert.True(c.Evaluation!.IsPluginMetric);
        Assert.Equal("other/reader", c.Calibration.Data.Reader);
    }

    [Fact]
    public void The_plugins_are_loaded_once_to_check_extension_names()
    {
        int loads = 0;
        var options = new ConfigValidationOptions
        {
            ExtensionsFor = (_, _) =>
            {
                loads++;
                return Known.KnownExtensions;
            },
        };
        string evaluation = "evaluation:\n  data: {reader: contoso/images, path: images}\n  labels: data/eval_labels.npy\n  metric: contoso/f1";

        _dir.Load(Yaml("{reader: contoso/images, path: images}", evaluation), options);

        Assert.Equal(1, loads);
    }
}
