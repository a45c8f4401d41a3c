using System.Diagnostics;
using System.Text.Json;
using Xunit.Abstractions;
using QuantBuild.Tests.Shared;

namespace QuantBuild.MSBuild.Tests;

/// <summary>
/// A user's path through the packages, start to finish: pack to a local feed, a fresh app with only package references,
/// `dotnet publish -r linux-x64`, a failing gate, an unchanged re-publish, and the tool through a tool manifest.
/// </summary>
public sealed class PublishEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "quantbuild-e2e-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void Publish_ships_the_gated_int8_model_fails_on_a_tight_gate_reuses_the_cache_and_the_tool_restores()
    {
        // Pack from a copy of the sources: packing restores with this test's isolated NuGet folder, which would
        // rewrite the repository's obj/ assets while other test projects build from them in parallel.
        string repo = CopySources(RepoRoot(), Path.Combine(_root, "repo"));
        string feed = Path.Combine(_root, "feed");
        string app = Path.Combine(_root, "app");
        string publish = Path.Combine(_root, "publish");
        var env = new Dictionary<string, string>
        {
            // Isolated: the 0.1.0 packages built here never land in (or come stale from) the machine's NuGet cache.
            ["NUGET_PACKAGES"] = Path.Combine(_root, "nuget"),
            ["QUANTBUILD_CACHE"] = Path.Combine(_root, "cache"),
        };

        foreach (string project in new[] { "QuantBuild.Abstractions", "QuantBuild.PassKit", "QuantBuild.Runtime", "QuantBuild.Cli", "QuantBuild.MSBuild", "QuantBuild.Testing", "QuantBuild.Templates" })
        {
            Dotnet(repo, env, "pack", Path.Combine(repo, "src", project), "-c", "Release", "-o", feed).AssertOk();
        }

        Directory.CreateDirectory(app);
        string sample = Path.Combine(RepoRoot(), "samples", "fashion-mnist");
        File.WriteAllText(Path.Combine(app, "nuget.config"),
            $"<configuration><packageSources><add key=\"local\" value=\"{feed}\" /></packageSources></configuration>");
        File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
              <ItemGroup>
                <PackageReference Include="QuantBuild.MSBuild" Version="0.1.0" PrivateAssets="all" />
                <PackageReference Include="QuantBuild.Runtime" Version="0.1.0" />
                <None Include="{sample}/model.onnx" Link="model.onnx" CopyToPublishDirectory="PreserveNewest" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using QuantBuild.Abstractions.Tensors;
            using QuantBuild.Runtime;
            using var session = new InferenceSession(Path.Combine(AppContext.BaseDirectory, "model.onnx"));
            var input = DenseTensor.FromFloats(new float[28 * 28], 1, 1, 28, 28);
            var logits = session.Run(new Dictionary<string, DenseTensor> { [session.InputMetadata.Keys.First()] = input })[session.OutputMetadata.Keys.First()];
            Console.WriteLine($"classes={logits.ElementCount}");
            """);
        string yaml = Path.Combine(app, "quantize.yaml");
        string Yaml(string gate) =>
            $"model: {sample}/model.onnx\noutput: quantized\ncalibration:\n  data: {sample}/data/calibration.npy\n" +
            $"evaluation:\n  data: {sample}/data/eval_images.npy\n  labels: {sample}/data/eval_labels.npy\n  metric: top1\n  batch_size: 250\n" +
            $"gate:\n  {gate}\ntargets:\n  x64:\n    device: cpu-x64-vnni\n  arm64:\n    device: cpu-arm64\n";
        File.WriteAllText(yaml, Yaml("max_drop: 0.5"));

        // 1. publish -r linux-x64: the x64 target's int8 model replaces model.onnx, with its manifest.
        Dotnet(app, env, "publish", "-r", "linux-x64", "-o", publish).AssertOk();
        string model = Path.Combine(publish, "model.onnx");
        byte[] shipped = File.ReadAllBytes(model);
        Assert.True(shipped.Length < new FileInfo(Path.Combine(sample, "model.onnx")).Length / 2, "the published model is not the int8 one");
        Assert.Contains("QuantizeLinear", System.Text.Encoding.ASCII.GetString(shipped));
        using (JsonDocument manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(publish, "model.manifest.json"))))
        {
            Assert.Equal("x64", manifest.RootElement.GetProperty("target").GetString());
            Assert.Equal("Passed", manifest.RootElement.GetProperty("verdict").GetString());
        }

        Assert.False(File.Exists(Path.Combine(publish, "model.arm64.onnx")), "arm64 does not serve linux-x64");
        Run(Path.Combine(publish, "App"), publish).AssertOk().AssertContains("classes=10");

        // 2. Unchanged: nothing is quantized again; with obj/ cleaned, the result comes from the cache.
        Dotnet(app, env, "publish", "-r", "linux-x64", "-o", publish).AssertOk().AssertNotContains("quantized in");
        Directory.Delete(Path.Combine(app, "obj", "Release", "net10.0", "linux-x64", "quantbuild"), recursive: true);
        Dotnet(app, env, "publish", "-r", "linux-x64", "-o", publish).AssertOk().AssertContains("cached");
        Assert.Equal(shipped, File.ReadAllBytes(model));

        // 3. A gate no int8 model can meet fails the publish with QB4000 at the yaml's gate line.
        File.WriteAllText(yaml, Yaml("min: 99.9"));
        Result failed = Dotnet(app, env, "publish", "-r", "linux-x64", "-o", publish);
        Assert.NotEqual(0, failed.ExitCode);
        // Canonical, at the setting that failed (line 11 is "  min: 99.9"), so an IDE opens that line.
        failed.AssertContains($"{yaml}(11,3): error QB4000: ");

        // 4. The tool package through a tool manifest pointing at the same feed.
        string tools = Path.Combine(_root, "tools");
        Directory.CreateDirectory(tools);
        File.Copy(Path.Combine(repo, "dotnet-tools.json"), Path.Combine(tools, "dotnet-tools.json"));
        File.Copy(Path.Combine(app, "nuget.config"), Path.Combine(tools, "nuget.config"));
        // The SDK's local-tool resolver cache lives under the CLI home and keeps the first path it saw for a
        // tool id and version; a fresh CLI home keeps a stale entry from an earlier run (whose temp NuGet folder is
        // gone) from shadowing this restore.
        var toolEnv = new Dictionary<string, string>(env) { ["DOTNET_CLI_HOME"] = Path.Combine(_root, "cli-home") };
        Dotnet(tools, toolEnv, "tool", "restore").AssertOk();
        Dotnet(tools, toolEnv, "quantbuild", "--version").AssertOk().AssertContains("0.1.0");

        // 5. A third party's plugin, as an outside author builds it: its own project (no repository props) against the
        //    contract package 2.0.* and PassKit from the feed, loaded and run by the tool package.
        string plugin = Path.Combine(_root, "clip");
        Directory.CreateDirectory(plugin);
        foreach (string source in Directory.GetFiles(Path.Combine(RepoRoot(), "samples", "PercentileClipPlugin"), "*.cs"))
        {
            File.Copy(source, Path.Combine(plugin, Path.GetFileName(source)));
        }

        File.Copy(Path.Combine(app, "nuget.config"), Path.Combine(plugin, "nuget.config"));
        File.WriteAllText(Path.Combine(plugin, "Clip.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <EnableDynamicLoading>true</EnableDynamicLoading>
                <Version>2.3.4</Version>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="QuantBuild.Abstractions" Version="2.0.*" />
                <PackageReference Include="QuantBuild.PassKit" Version="0.1.*" />
              </ItemGroup>
            </Project>
            """);
        // built into a folder under the yaml's: the tool refuses plugin code from elsewhere unless told (QB1015)
        Dotnet(plugin, env, "build", "-c", "Release", "-o", Path.Combine(tools, "plugins", "clip")).AssertOk();
        string clipYaml = Path.Combine(tools, "clip.yaml");
        File.WriteAllText(clipYaml,
            $"model: {sample}/model.onnx\noutput: {Path.Combine(_root, "clip-out")}\ncalibration:\n  data: {sample}/data/calibration.npy\n" +
            $"evaluation:\n  data: {sample}/data/eval_images.npy\n  labels: {sample}/data/eval_labels.npy\n  metric: top1\n  batch_size: 250\n" +
            "gate:\n  max_drop: 0.5\nplugins:\n  - path: plugins/clip\n" +
            "targets:\n  x64-clipped:\n    device: cpu-x64-vnni\n    recipe:\n      - pass: percentile-clip\n        steps: 21\n");
        Dotnet(tools, toolEnv, "quantbuild", "plugins", "list", "-c", clipYaml).AssertOk().AssertContains("percentile-clip").AssertContains("2.3.4");
        Dotnet(tools, toolEnv, "quantbuild", "run", "-c", clipYaml, "--no-cache").AssertOk().AssertContains("x64-clipped")
            .AssertContains("per batch") // the kernel check ran...
            .AssertNotContains("Serializing optimized model"); // ...without ONNX Runtime's warning about the graph it writes
        Assert.True(File.Exists(Path.Combine(_root, "clip-out", "model.x64-clipped.onnx")), "the plugin's target wrote no model");

        // 6. The author's own test of the pass, through the QuantBuild.Testing package: the engine's pass context on
        //    the sample, ONNX Runtime's natives from the QuantBuild.Runtime package, no RID.
        string check = Path.Combine(_root, "clip-check");
        Directory.CreateDirectory(check);
        File.Copy(Path.Combine(app, "nuget.config"), Path.Combine(check, "nuget.config"));
        File.WriteAllText(Path.Combine(check, "ClipCheck.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings><Nullable>enable</Nullable></PropertyGroup>
              <ItemGroup>
                <PackageReference Include="QuantBuild.Testing" Version="0.1.0" />
                <ProjectReference Include="../clip/Clip.csproj" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(check, "Program.cs"), """
            using PercentileClipPlugin;
            using QuantBuild.Testing;
            using var context = PassTestContext.FromFiles(args[0], args[1]);
            new PercentileClipPass().Run(context, new PercentileClipOptions { Steps = 21 });
            Console.WriteLine($"encodings={context.Encodings.Count}");
            Console.WriteLine($"codes={context.Encodings.Values.All(e => e.Codes is not null)}");
            Console.WriteLine(string.Join(Environment.NewLine, context.Lines));
            """);
        Dotnet(check, env, "run", "--", $"{sample}/model.onnx", $"{sample}/data/calibration.npy").AssertOk()
            .AssertContains("encodings=5").AssertContains("codes=True").AssertContains("info: clipped 5 weights per channel");

        // 7. A new plugin from the template, named as a company would (a dotted name ending in Pass): its solution's tests
        //    pass on the packages from the feed its nuget.config names, and the tool runs its pass.
        Dotnet(_root, toolEnv, "new", "install", Path.Combine(feed, "QuantBuild.Templates.0.1.0.nupkg")).AssertOk();
        string fresh = Path.Combine(_root, "clamp");
        Dotnet(_root, toolEnv, "new", "quantbuild-pass", "-n", "MyCompany.ClipPass", "--passName", "clamp", "--feed", feed, "-o", fresh).AssertOk();
        Assert.True(File.Exists(Path.Combine(fresh, "MyCompany.ClipPass", "ClipPass.cs")), "the pass class is not named after the last segment");
        Dotnet(fresh, toolEnv, "test").AssertOk().AssertContains("Passed!").AssertNotContains("Failed!");
        Dotnet(fresh, toolEnv, "build", "MyCompany.ClipPass", "-c", "Release", "-o", Path.Combine(tools, "plugins", "clamp")).AssertOk();
        string clampYaml = Path.Combine(tools, "clamp.yaml");
        File.WriteAllText(clampYaml, File.ReadAllText(clipYaml).Replace("plugins/clip", "plugins/clamp").Replace("percentile-clip\n        steps: 21", "clamp\n        clip_ratio: 0.95")
            .Replace("clip-out", "clamp-out"));
        Dotnet(tools, toolEnv, "quantbuild", "run", "-c", clampYaml, "--no-cache").AssertOk().AssertContains("coded 5 weights per channel at clip ratio 0.95");
        Assert.True(File.Exists(Path.Combine(_root, "clamp-out", "model.x64-clipped.onnx")), "the template pass's target wrote no model");

        // 8. The app with a plugin recipe: publish → change the plugin → publish re-quantizes → QuantBuildSkip ships fp32 → clean.
        string appPlugin = Path.Combine(app, "plugins", "clip");
        Dotnet(plugin, env, "build", "-c", "Release", "-o", appPlugin).AssertOk();
        File.WriteAllText(yaml, Yaml("max_drop: 0.5").Replace("targets:\n  x64:\n    device: cpu-x64-vnni\n",
            "plugins:\n  - path: plugins/clip\ntargets:\n  x64:\n    device: cpu-x64-vnni\n    recipe:\n      - pass: percentile-clip\n        steps: 21\n"));
        Dotnet(app, env, "publish", "-r", "linux-x64", "-o", publish).AssertOk();
        AssertManifestNamesThePlugin("2.3.4");
        File.WriteAllText(Path.Combine(plugin, "Clip.csproj"), File.ReadAllText(Path.Combine(plugin, "Clip.csproj")).Replace("2.3.4", "2.3.5"));
        Dotnet(plugin, env, "build", "-c", "Release", "-o", appPlugin).AssertOk();
        Dotnet(app, env, "publish", "-r", "linux-x64", "-o", publish, "-v:n").AssertOk().AssertContains("quantized in").AssertNotContains("cached");
        AssertManifestNamesThePlugin("2.3.5");

        Dotnet(app, env, "publish", "-r", "linux-x64", "-o", publish, "-p:QuantBuildSkip=true").AssertOk().AssertContains("ship unquantized");
        Assert.Equal(File.ReadAllBytes(Path.Combine(sample, "model.onnx")), File.ReadAllBytes(model));
        Assert.False(File.Exists(Path.Combine(publish, "model.manifest.json")), "the manifest of a model that no longer ships");
        Dotnet(app, env, "clean", "-c", "Release", "-r", "linux-x64").AssertOk();
        Assert.False(Directory.Exists(Path.Combine(app, "obj", "Release", "net10.0", "linux-x64", "quantbuild")), "dotnet clean left obj/.../quantbuild");

        // 9. Every package carries a readme.
        foreach (string package in Directory.GetFiles(feed, "QuantBuild.*.nupkg"))
        {
            using var zip = System.IO.Compression.ZipFile.OpenRead(package);
            Assert.True(zip.GetEntry("README.md") is not null, $"{Path.GetFileName(package)} has no README.md");
        }

        void AssertManifestNamesThePlugin(string version)
        {
            string text = File.ReadAllText(Path.Combine(publish, "model.manifest.json"));
            Assert.DoesNotContain(_root, text); // no build-machine paths
            using JsonDocument manifest = JsonDocument.Parse(text);
            JsonElement used = Assert.Single(manifest.RootElement.GetProperty("plugins").EnumerateArray());
            Assert.Equal("Clip", used.GetProperty("name").GetString());
            Assert.Equal(version, used.GetProperty("version").GetString());
            string dll = Path.Combine(appPlugin, "Clip.dll");
            Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(dll))).ToLowerInvariant(),
                used.GetProperty("sha256").GetString());
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private Result Dotnet(string directory, Dictionary<string, string> env, params string[] args) => Run("dotnet", directory, env, args);

    private Result Run(string file, string directory, Dictionary<string, string>? env = null, params string[] args)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach ((string key, string value) in env ?? new())
        {
            start.Environment[key] = value;
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        var clock = Stopwatch.StartNew();
        using Process process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var result = new Result(process.ExitCode, stdout + stderr.Result);
        output.WriteLine($"$ {file} {string.Join(' ', args)}  ({clock.Elapsed.TotalSeconds:0.0}s, exit {result.ExitCode})");
        output.WriteLine(result.Output);
        return result;
    }

    private static string CopySources(string from, string to)
    {
        foreach (string file in new[] { "Directory.Build.props", "Directory.Packages.props", "global.json", "dotnet-tools.json", "README.md" })
        {
            Directory.CreateDirectory(to);
            File.Copy(Path.Combine(from, file), Path.Combine(to, file));
        }

        foreach (string folder in new[] { "eng", "src", "plugins" })
        {
            CopyTree(Path.Combine(from, folder), Path.Combine(to, folder));
        }

        // The samples stay where they are: the app reads the model and data from the repository.
        return to;
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (string dir in Directory.GetDirectories(from))
        {
            string name = Path.GetFileName(dir);
            if (name is not ("bin" or "obj"))
            {
                CopyTree(dir, Path.Combine(to, name));
            }
        }
    }

    private static string RepoRoot() => RepositoryRoot.Path;

    private sealed record Result(int ExitCode, string Output)
    {
        public Result AssertOk()
        {
            Assert.True(ExitCode == 0, Output);
            return this;
        }

        public Result AssertContains(string text)
        {
            Assert.True(Output.Contains(text, StringComparison.Ordinal), $"expected '{text}' in:\n{Output}");
            return this;
        }

        public Result AssertNotContains(string text)
        {
            Assert.False(Output.Contains(text, StringComparison.Ordinal), $"did not expect '{text}' in:\n{Output}");
            return this;
        }
    }
}
