using System.Text.Json.Nodes;
using NJsonSchema;
using NJsonSchema.Validation;
using QuantBuild.Engine.Config;

namespace QuantBuild.Engine.Tests.Config;

public sealed class SchemaTests : IDisposable
{
    private static readonly string RepoRoot = FindRepoRoot();
    private static readonly string SchemaPath = Path.Combine(RepoRoot, "docs", "quantize.schema.json");
    private readonly ConfigFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string FindRepoRoot()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Directory.Packages.props")) && Directory.Exists(Path.Combine(d.FullName, "docs")))
            {
                return d.FullName;
            }
        }

        throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }

    private static ICollection<ValidationError> SchemaErrors(string yaml)
    {
        JsonSchema schema = JsonSchema.FromJsonAsync(File.ReadAllText(SchemaPath)).GetAwaiter().GetResult();
        return schema.Validate(YamlToJson.Convert(yaml));
    }

    /// <summary>Every yaml in the repository, skipping build output, git internals, packages and CI workflows.</summary>
    public static TheoryData<string> RepositoryYamlFiles()
    {
        var data = new TheoryData<string>();
        var skip = new HashSet<string>(StringComparer.Ordinal) { "bin", "obj", ".git", "node_modules", ".github" };
        var pending = new Stack<string>();
        pending.Push(RepoRoot);
        var found = new List<string>();
        while (pending.Count > 0)
        {
            string dir = pending.Pop();
            foreach (string sub in Directory.EnumerateDirectories(dir))
            {
                if (!skip.Contains(Path.GetFileName(sub)))
                {
                    pending.Push(sub);
                }
            }

            found.AddRange(Directory.EnumerateFiles(dir, "*.yaml").Concat(Directory.EnumerateFiles(dir, "*.yml")));
        }

        foreach (string f in found.Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(RepoRoot, f));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RepositoryYamlFiles))]
    public void Every_yaml_in_the_repository_validates_against_the_schema_and_loads(string relativePath)
    {
        string path = Path.Combine(RepoRoot, relativePath);

        ICollection<ValidationError> errors = SchemaErrors(File.ReadAllText(path));
        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => $"{relativePath}: {e}")));
        QuantizeConfig config = QuantizeConfigLoader.Load(path);
        Assert.NotEmpty(config.Targets);
    }

    [Fact]
    public void The_repository_has_at_least_one_yaml_to_check() => Assert.NotEmpty(RepositoryYamlFiles());

    [Fact]
    public void Schema_and_loader_accept_the_same_keys_at_every_level()
    {
        JsonNode root = JsonNode.Parse(File.ReadAllText(SchemaPath))!;
        JsonNode target = root["properties"]!["targets"]!["additionalProperties"]!;
        JsonNode gate = root["definitions"]!["gate"]!;

        AssertKeys(QuantizeConfigKeys.Root, root);
        AssertKeys(QuantizeConfigKeys.Input, root["properties"]!["inputs"]!["additionalProperties"]!);
        AssertKeys(QuantizeConfigKeys.Calibration, root["properties"]!["calibration"]!);
        AssertKeys(QuantizeConfigKeys.Evaluation, root["properties"]!["evaluation"]!);
        AssertKeys(QuantizeConfigKeys.Gate, gate);
        AssertKeys(QuantizeConfigKeys.Plugin, root["properties"]!["plugins"]!["items"]!);
        AssertKeys(QuantizeConfigKeys.Target, target);
        AssertKeys(QuantizeConfigKeys.Weights, target["properties"]!["weights"]!);
        AssertKeys(QuantizeConfigKeys.Exclude, target["properties"]!["exclude"]!);
        AssertKeys(QuantizeConfigKeys.Activations, target["properties"]!["activations"]!["oneOf"]![1]!);
        Assert.Equal(QuantizeConfigKeys.Pass, target["properties"]!["recipe"]!["items"]!["oneOf"]![1]!["required"]![0]!.GetValue<string>());
    }

    private static void AssertKeys(IReadOnlyList<string> loaderKeys, JsonNode schemaObject)
    {
        // Strict in the schema exactly where the loader is strict: unknown keys fail in both or in neither.
        Assert.False(schemaObject["additionalProperties"]?.GetValue<bool>() ?? true, "schema level must set additionalProperties: false");
        var schemaKeys = schemaObject["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal);
        Assert.Equal(loaderKeys.Order(StringComparer.Ordinal), schemaKeys);
        foreach (var p in schemaObject["properties"]!.AsObject())
        {
            Assert.False(string.IsNullOrWhiteSpace(p.Value!["description"]?.GetValue<string>()), $"property '{p.Key}' has no description");
        }
    }

    [Fact]
    public void The_full_example_in_configuration_md_validates_against_the_schema()
    {
        string md = File.ReadAllText(Path.Combine(RepoRoot, "docs", "configuration.md"));
        int start = md.IndexOf("```yaml\nmodel:", StringComparison.Ordinal) + "```yaml\n".Length;
        string yaml = md[start..md.IndexOf("```", start, StringComparison.Ordinal)].Replace("3f5a...", new string('a', 64));

        ICollection<ValidationError> errors = SchemaErrors(yaml);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    [Fact]
    public void Schema_enums_match_the_loader()
    {
        JsonNode root = JsonNode.Parse(File.ReadAllText(SchemaPath))!;
        string[] Enum(JsonNode n) => n["enum"]!.AsArray().Select(x => x!.GetValue<string>()).ToArray();

        Assert.Equal(Engine.Profiles.DeviceProfiles.All.Keys.Order(), Enum(root["properties"]!["targets"]!["additionalProperties"]!["properties"]!["device"]!).Order());
        // Built-in metrics are an enum; a plugin's (id/name) matches the pattern beside it.
        Assert.Equal(MetricInfo.BuiltIn.Select(m => m.Name), Enum(root["properties"]!["evaluation"]!["properties"]!["metric"]!["anyOf"]![0]!));
        Assert.Equal(["minmax", "percentile", "entropy", "mse", "auto"], Enum(root["properties"]!["calibration"]!["properties"]!["method"]!));
    }

    [Fact]
    public void Schema_rejects_what_the_loader_rejects_for_unknown_keys_and_bad_enums()
    {
        Assert.NotEmpty(SchemaErrors("model: m.onnx\ncalibration: {data: c.npy, methd: minmax}\ntargets: {x: {device: cpu-arm64}}\n"));
        Assert.NotEmpty(SchemaErrors("model: m.onnx\ncalibration: {data: c.npy}\ntargets: {x: {device: cpu-x64-vnii}}\n"));
        Assert.NotEmpty(SchemaErrors("model: m.onnx\ncalibration: {data: c.npy}\ntargets: {}\n"));
        Assert.Empty(SchemaErrors("model: m.onnx\ncalibration: {data: c.npy}\ngate: {max_drop: \"1%\"}\ntargets: {x: {device: cpu-arm64, recipe: [{pass: smoothquant, alpha: 0.5}, adaround]}}\n"));
    }

    [Fact]
    public void Starter_config_validates_against_the_schema_and_loads_once_its_files_exist()
    {
        string model = _dir.P("model.onnx");
        string yaml = StarterConfig.Write(model, schemaLocation: "docs/quantize.schema.json");

        string text = File.ReadAllText(yaml);
        Assert.StartsWith("# yaml-language-server: $schema=docs/quantize.schema.json", text);
        Assert.Empty(SchemaErrors(text));
        QuantizeConfig c = QuantizeConfigLoader.Load(yaml);
        Assert.Equal(model, c.ModelPath);
        Assert.Equal(_dir.P("data/calibration.npy"), c.Calibration.Data.Path);
        Assert.Equal(_dir.P("data/eval_images.npy"), c.Evaluation!.Data.Path);
        Assert.Equal(("top1", _dir.P("data/eval_labels.npy")), (c.Evaluation.Metric, c.Evaluation.LabelsPath));
        Assert.Equal(["x64", "arm64"], c.Targets.Select(t => t.Name));
    }

    [Fact]
    public void Starter_config_for_a_multi_input_model_without_data_names_one_file_per_input()
    {
        string dir = Path.Combine(_dir.Root, "bert");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "bert.onnx"), [0]);

        string yaml = StarterConfig.Write(Path.Combine(dir, "bert.onnx"), inputNames: ["input_ids", "attention_mask"]);
        string text = File.ReadAllText(yaml);

        Assert.Contains("    input_ids: data/calibration_input_ids.npy", text);
        Assert.Contains("metric: agreement", text);
        Assert.Empty(SchemaErrors(text));
        var e = Assert.Throws<ConfigValidationException>(() => QuantizeConfigLoader.Load(yaml));
        Assert.All(e.Errors, x => Assert.Equal(ConfigErrorCodes.FileNotFound, x.Code));

        Directory.CreateDirectory(Path.Combine(dir, "data"));
        foreach (string f in new[] { "calibration_input_ids", "calibration_attention_mask", "eval_input_ids", "eval_attention_mask" })
        {
            File.WriteAllBytes(Path.Combine(dir, "data", f + ".npy"), [0]);
        }

        DataSourceConfig calibration = QuantizeConfigLoader.Load(yaml).Calibration.Data;
        Assert.Equal(DataSourceKind.PerInput, calibration.Kind);
        Assert.Equal(["input_ids", "attention_mask"], calibration.Inputs.Keys);
    }

    [Fact]
    public void Starter_config_refuses_to_overwrite_an_existing_yaml()
    {
        StarterConfig.Write(_dir.P("model.onnx"));
        var e = Assert.Throws<QuantBuild.Abstractions.Diagnostics.QuantBuildException>(() => StarterConfig.Write(_dir.P("model.onnx")));

        Assert.Equal(ConfigErrorCodes.StarterExists, e.Code);
    }
}
