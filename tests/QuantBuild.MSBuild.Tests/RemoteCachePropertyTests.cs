using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace QuantBuild.MSBuild.Tests;

/// <summary>
/// QuantBuildRemoteCache reaches the tool as --no-remote-cache, and the tool process inherits the build's environment,
/// where CI puts the cache credential (no property carries it).
/// </summary>
public sealed class RemoteCachePropertyTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "qb-msbuild-remote-" + Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void RemoteCache_false_runs_the_tool_with_no_remote_cache(bool remoteCache, bool expectFlag)
    {
        string seen = RunWithRecordingTool(remoteCache, out string environment);

        string[] arguments = seen.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("run", arguments);
        Assert.Equal(expectFlag, arguments.Contains("--no-remote-cache"));
        Assert.Equal("from-the-ci-secret", environment);
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("QB_TEST_MSBUILD_CACHE_CONNECTION", null);
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    // A stand-in for `dotnet QuantBuild.Cli.dll`: /bin/sh runs a script that records its arguments and one variable.
    private string RunWithRecordingTool(bool remoteCache, out string environment)
    {
        Directory.CreateDirectory(_dir);
        string args = Path.Combine(_dir, $"args-{remoteCache}.txt");
        string env = Path.Combine(_dir, $"env-{remoteCache}.txt");
        string tool = Path.Combine(_dir, "tool.sh");
        File.WriteAllText(tool, $"printf '%s\\n' \"$@\" > '{args}'\nprintf '%s' \"$QB_TEST_MSBUILD_CACHE_CONNECTION\" > '{env}'\necho '{{\"targets\":[]}}'\n");
        Environment.SetEnvironmentVariable("QB_TEST_MSBUILD_CACHE_CONNECTION", "from-the-ci-secret");
        var task = new QuantBuildQuantize
        {
            BuildEngine = new RecordingBuildEngine(),
            DotnetHost = "/bin/sh",
            ToolPath = tool,
            ConfigFile = Path.Combine(_dir, "quantize.yaml"),
            OutputDirectory = Path.Combine(_dir, "out"),
            Targets = [new TaskItem("x64")],
            RemoteCache = remoteCache,
        };

        Assert.True(task.Execute());
        environment = File.ReadAllText(env);
        return File.ReadAllText(args);
    }
}
