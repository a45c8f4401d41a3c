using Microsoft.Build.Utilities;

namespace QuantBuild.MSBuild.Tests;

/// <summary>The tool's diagnostic lines become MSBuild errors an IDE can jump to: file, line, column, code, message.</summary>
public sealed class DiagnosticsTests
{
    private static (RecordingBuildEngine Engine, TaskLoggingHelper Log) Logger()
    {
        var engine = new RecordingBuildEngine();
        var task = new QuantBuildListTargets { BuildEngine = engine };
        return (engine, task.Log);
    }

    [Theory]
    [InlineData("/work/app/quantize.yaml(12,21): error QB1011: 'bits' must be 4 or 8 Fix: use 8")]
    [InlineData("  /work/app/quantize.yaml(12,21): error QB1011: 'bits' must be 4 or 8 Fix: use 8")]
    [InlineData("[07:01:02] /work/app/quantize.yaml(12,21): error QB1011: 'bits' must be 4 or 8 Fix: use 8")]
    public void An_indented_or_timestamped_line_names_the_file_without_leading_spaces(string line)
    {
        (RecordingBuildEngine engine, TaskLoggingHelper log) = Logger();

        Assert.True(Diagnostics.TryLog(log, line, out bool isError));

        Assert.True(isError);
        var error = Assert.Single(engine.Errors);
        Assert.Equal(("/work/app/quantize.yaml", 12, 21, "QB1011"), (error.File, error.LineNumber, error.ColumnNumber, error.Code));
        Assert.Equal("'bits' must be 4 or 8 Fix: use 8", error.Message);
        Assert.Null(error.Subcategory); // "file(12,21): error QB1011: ...", not "file(12,21): QuantBuild error QB1011: ..."
    }

    [Fact]
    public void A_log_line_about_a_target_is_not_read_as_a_file_named_after_the_target()
    {
        (RecordingBuildEngine engine, TaskLoggingHelper log) = Logger();

        Assert.False(Diagnostics.TryLog(log, "[07:01:02] x64: /work/app/quantize.yaml(9,15): error QB2020: pass failed", out _));
        Assert.Empty(engine.Errors);
    }

    [Fact]
    public void The_same_diagnostic_logged_and_listed_again_compares_equal_without_its_timestamp()
    {
        Assert.Equal(Diagnostics.WithoutTimestamp("/a.yaml(1,1): error QB4000: x"), Diagnostics.WithoutTimestamp("[07:01:02] /a.yaml(1,1): error QB4000: x"));
    }

    [Fact]
    public void The_summary_after_several_config_errors_is_not_an_error_of_its_own()
    {
        (RecordingBuildEngine engine, TaskLoggingHelper log) = Logger();

        Assert.False(Diagnostics.TryLog(log, "7 configuration errors in quantize.yaml; fix each one listed above.", out _));
        Assert.Empty(engine.Errors);
    }
}
