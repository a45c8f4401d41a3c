using System.Diagnostics;
using System.Xml.Linq;
using QuantBuild.Tests.Shared;
using Xunit.Abstractions;

namespace QuantBuild.MSBuild.Tests;

/// <summary>
/// build/QuantBuild.MSBuild.targets on a small app that imports it directly: what QuantBuildSkip, clean and the runtime
/// check do to the files, without packing (the tool is never started on these paths).
/// </summary>
public sealed class TargetsTests(ITestOutputHelper output) : IDisposable
{
    private static readonly byte[] Fp32 = "fp32 model bytes"u8.ToArray();

    private readonly string _app = Path.Combine(Path.GetTempPath(), "quantbuild-targets-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_app, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void CreateApp()
    {
        string build = Path.Combine(RepositoryRoot.Path, "src", "QuantBuild.MSBuild", "build");
        Directory.CreateDirectory(_app);
        File.WriteAllText(Path.Combine(_app, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <Import Project="{build}/QuantBuild.MSBuild.props" />
              <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework></PropertyGroup>
              <ItemGroup><None Include="model.onnx" CopyToPublishDirectory="PreserveNewest" /></ItemGroup>
              <Import Project="{build}/QuantBuild.MSBuild.targets" />
            </Project>
            """);
        File.WriteAllText(Path.Combine(_app, "Program.cs"), "System.Console.WriteLine(1);");
        File.WriteAllBytes(Path.Combine(_app, "model.onnx"), Fp32);
    }

    [Fact]
    public void Skip_into_a_folder_a_quantized_publish_filled_ships_the_fp32_model_and_removes_what_QuantBuild_added_and_clean_removes_its_folder()
    {
        CreateApp();
        string publish = Path.Combine(_app, "publish");
        Directory.CreateDirectory(publish);
        // What an earlier quantized publish left: the int8 model (newer than the fp32 source), its manifest, a second target.
        File.WriteAllText(Path.Combine(publish, "model.onnx"), "int8 model bytes");
        File.SetLastWriteTimeUtc(Path.Combine(publish, "model.onnx"), DateTime.UtcNow.AddHours(1));
        File.WriteAllText(Path.Combine(publish, "model.manifest.json"), "{\"verdict\": \"Passed\"}");
        File.WriteAllText(Path.Combine(publish, "model.arm64.onnx"), "arm64");
        string quantbuild = Path.Combine(_app, "obj", "Release", "net10.0", "quantbuild");
        Directory.CreateDirectory(quantbuild);
        File.WriteAllLines(Path.Combine(quantbuild, "shipped.txt"), ["model.onnx", "model.manifest.json", "model.arm64.onnx"]);

        string log = Dotnet("publish", "-c", "Release", "-o", publish, "-p:QuantBuildSkip=true");

        Assert.Equal(Fp32, File.ReadAllBytes(Path.Combine(publish, "model.onnx")));
        Assert.False(File.Exists(Path.Combine(publish, "model.manifest.json")), "a manifest would describe a model that is not there");
        Assert.False(File.Exists(Path.Combine(publish, "model.arm64.onnx")));
        Assert.Contains("the fp32 model(s) ship unquantized: model.onnx", log);

        File.WriteAllText(Path.Combine(quantbuild, "targets.json"), "{}");
        Dotnet("clean", "-c", "Release");
        Assert.False(Directory.Exists(quantbuild), "dotnet clean left obj/.../quantbuild");
    }

    [Fact]
    public void A_runtime_identifier_without_an_ONNX_Runtime_library_is_a_QB5006_warning()
    {
        CreateApp();

        string osx = Dotnet("msbuild", "-restore:false", "-t:QuantBuildCheckRuntime", "-p:RuntimeIdentifier=osx-x64", "-tl:off");
        string linux = Dotnet("msbuild", "-restore:false", "-t:QuantBuildCheckRuntime", "-p:RuntimeIdentifier=linux-x64", "-tl:off");

        Assert.Contains("warning QB5006", osx);
        Assert.Contains("'osx-x64'", osx);
        Assert.DoesNotContain("QB5006", linux);
    }

    [Fact]
    public void The_packaged_targets_name_the_ONNX_Runtime_version_the_build_fetches()
    {
        static string? Property(string file, string name) =>
            XDocument.Load(file).Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value;

        Assert.Equal(
            Property(Path.Combine(RepositoryRoot.Path, "Directory.Build.props"), "QuantBuildOrtVersion"),
            Property(Path.Combine(RepositoryRoot.Path, "src", "QuantBuild.MSBuild", "build", "QuantBuild.MSBuild.targets"), "QuantBuildPackagedOrtVersion"));
    }

    private string Dotnet(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = _app, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["MSBUILDTERMINALLOGGER"] = "off";
        using Process process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string text = process.StandardOutput.ReadToEnd() + stderr.Result;
        process.WaitForExit();
        output.WriteLine($"$ dotnet {string.Join(' ', args)} (exit {process.ExitCode})\n{text}");
        Assert.True(process.ExitCode == 0, text);
        return text;
    }
}
