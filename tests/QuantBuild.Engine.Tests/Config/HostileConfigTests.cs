using System.Diagnostics;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Config;

namespace QuantBuild.Engine.Tests.Config;

/// <summary>
/// quantize.yaml files built to hurt the loader (issue 15). Each once crashed the process, hung, or ended in QB0001;
/// each must now be one QB code at a line, within seconds.
/// </summary>
public sealed class HostileConfigTests : IDisposable
{
    private readonly ConfigFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private const string Valid = """
        model: model.onnx
        calibration:
          data: data/calibration.npy
        evaluation:
          data: data/eval_images.npy
          labels: data/eval_labels.npy
        targets:
          x64:
            device: cpu-x64-vnni
        """;

    [Fact]
    public void A_recursive_alias_is_QB1001_at_the_alias()
    {
        QuantBuildException e = Within(() => _dir.SingleError(Valid + "\nx: &r [*r]\n"));

        Assert.Equal((ConfigErrorCodes.Syntax, 10), (e.Code, e.Line));
        Assert.Contains("alias '*r'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ten_thousand_nested_brackets_are_QB1021_not_a_stack_overflow()
    {
        QuantBuildException e = Within(() => _dir.SingleError(Valid + "\nx: " + new string('[', 10_000) + new string(']', 10_000) + "\n"));

        Assert.Equal(ConfigErrorCodes.TooLarge, e.Code);
        Assert.Contains("nest more than 64", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_one_kilobyte_alias_bomb_is_QB1021_before_it_grows()
    {
        // Each level doubles: 2^30 values from a few hundred bytes.
        var bomb = new System.Text.StringBuilder("a0: &a0 [x, x]\n");
        for (int i = 1; i <= 30; i++)
        {
            bomb.Append($"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n");
        }

        Assert.True(bomb.Length < 1024);
        QuantBuildException e = Within(() => _dir.Errors(bomb + Valid)[0]);

        Assert.Equal(ConfigErrorCodes.TooLarge, e.Code);
        Assert.Contains("expands to more than 100000 values", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_harmless_alias_still_reads_as_its_anchor()
    {
        QuantizeConfig config = _dir.Load(Valid.Replace("targets:\n  x64:\n    device: cpu-x64-vnni", "targets:\n  x64: &t\n    device: cpu-x64-vnni\n  x64-b: *t"));

        Assert.Equal(["x64", "x64-b"], config.Targets.Select(t => t.Name));
    }

    [Fact]
    public void A_config_over_a_megabyte_is_QB1021()
    {
        QuantBuildException e = _dir.SingleError(Valid + "\n# " + new string('x', 1 << 20) + "\n");

        Assert.Equal(ConfigErrorCodes.TooLarge, e.Code);
    }

    [Fact]
    public void A_NUL_in_a_path_is_QB1020_at_its_line()
    {
        QuantBuildException e = _dir.SingleError(Valid.Replace("data/calibration.npy", "\"data/cal\\0ibration.npy\""));

        Assert.Equal((ConfigErrorCodes.NotAFile, 3), (e.Code, e.Line));
        Assert.Contains("NUL", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_250_character_target_name_is_QB1017_at_validation()
    {
        string name = "t" + new string('x', 249);
        QuantBuildException e = _dir.SingleError(Valid.Replace("  x64:", $"  {name}:"));

        Assert.Equal((ConfigErrorCodes.BadName, 8), (e.Code, e.Line));
        Assert.Contains("at most 180 fit", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1e12")]
    [InlineData("604801")]
    public void A_timeout_beyond_a_week_is_QB1011(string seconds)
    {
        QuantBuildException e = _dir.SingleError(Valid + $"\n    recipe:\n      - pass: smoothquant\n        timeout_seconds: {seconds}\n");

        Assert.Equal((ConfigErrorCodes.OutOfRange, 12), (e.Code, e.Line));
    }

    [Theory]
    [InlineData("quantbuild-report.md")]
    [InlineData("quantbuild-report.html")]
    [InlineData("rejected")]
    [InlineData("model.other.manifest.json")]
    public void An_output_that_another_writer_owns_is_QB1017(string output)
    {
        string yaml = Valid + $"\n    output: {output}\n  other:\n    device: cpu-x64-avx2\n";

        QuantBuildException e = _dir.SingleError(yaml);

        Assert.Equal(ConfigErrorCodes.BadName, e.Code);
        Assert.Contains("also writes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_output_over_the_input_model_is_QB1017()
    {
        QuantBuildException e = _dir.SingleError("output: .\n" + Valid + "\n    output: model.onnx\n");

        Assert.Equal(ConfigErrorCodes.BadName, e.Code);
        Assert.Contains("over the input model", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sqnr_with_max_drop_is_refused_because_it_cannot_fail()
    {
        string yaml = Valid.Replace("  labels: data/eval_labels.npy", "  metric: sqnr") + "\ngate:\n  max_drop: 3\n";

        QuantBuildException e = _dir.SingleError(yaml);

        Assert.Equal((ConfigErrorCodes.Conflict, 11), (e.Code, e.Line));
        Assert.Contains("min", e.Fix, StringComparison.Ordinal);
        Assert.NotNull(_dir.Load(yaml.Replace("max_drop: 3", "min: 20")).Gate);
    }

    [Fact]
    public void Dev_zero_as_labels_is_QB1020_at_validation()
    {
        QuantBuildException e = Within(() => _dir.SingleError(Valid.Replace("data/eval_labels.npy", "/dev/zero")));

        Assert.Equal((ConfigErrorCodes.NotAFile, 6), (e.Code, e.Line));
    }

    [Theory]
    [InlineData("data/calibration.npy", 3)]
    [InlineData("data/eval_images.npy", 5)]
    [InlineData("data/eval_labels.npy", 6)]
    public void A_symlink_to_dev_zero_as_data_or_labels_is_QB1020_at_validation(string file, int line)
    {
        // The path looks like any .npy: only its real target tells.
        File.Delete(_dir.P(file));
        File.CreateSymbolicLink(_dir.P(file), "/dev/zero");

        QuantBuildException e = Within(() => _dir.SingleError(Valid));

        Assert.Equal((ConfigErrorCodes.NotAFile, line), (e.Code, e.Line));
        Assert.Contains("/dev/zero", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Labels_at_proc_self_mem_are_QB1020()
    {
        File.Delete(_dir.P("data/eval_labels.npy"));
        File.CreateSymbolicLink(_dir.P("data/eval_labels.npy"), "/proc/self/mem");

        Assert.Equal(ConfigErrorCodes.NotAFile, _dir.SingleError(Valid).Code);
    }

    [Fact]
    public void A_FIFO_as_calibration_data_is_QB1020_without_blocking()
    {
        File.Delete(_dir.P("data/calibration.npy"));
        Data.Fifo.Make(_dir.P("data/calibration.npy"));

        QuantBuildException e = Within(() => _dir.SingleError(Valid));
        Assert.Equal((ConfigErrorCodes.NotAFile, 3), (e.Code, e.Line));
    }

    [Fact]
    public void Dev_zero_as_the_config_itself_is_refused_without_reading_it()
    {
        string link = _dir.P("zero.yaml");
        File.CreateSymbolicLink(link, "/dev/zero");

        var e = Within(() => Assert.Throws<ConfigValidationException>(() => QuantizeConfigLoader.Load(link)));
        Assert.Equal(ConfigErrorCodes.NotAFile, e.Code);
    }

    [Fact]
    public void A_missing_plugin_path_is_left_to_the_plugin_host()
    {
        QuantizeConfig config = _dir.Load(Valid + "\nplugins:\n  - path: plugins/NotBuiltYet\n");

        Assert.Equal(_dir.P("plugins/NotBuiltYet"), config.Plugins[0].Path);
    }

    private static T Within<T>(Func<T> action)
    {
        var clock = Stopwatch.StartNew();
        Task<T> task = Task.Run(action);
        Assert.True(task.Wait(TimeSpan.FromSeconds(20)), "did not finish within 20 s");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20));
        return task.Result;
    }
}
