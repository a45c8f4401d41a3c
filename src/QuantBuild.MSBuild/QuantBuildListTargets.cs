using System.Text.Json;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace QuantBuild.MSBuild;

/// <summary>
/// Asks the tool (<c>quantbuild targets --json</c>) which targets the yaml has and which runtime identifiers each device
/// serves, picks the ones this build needs, and says where each quantized model and manifest go in the output.
/// </summary>
public sealed class QuantBuildListTargets : QuantBuildToolTask
{
    /// <summary>The project folder: output paths inside it keep their relative layout.</summary>
    [Required]
    public string ProjectDirectory { get; set; } = string.Empty;

    /// <summary>Where the task's run writes (obj/.../quantbuild/).</summary>
    [Required]
    public string IntermediateDirectory { get; set; } = string.Empty;

    /// <summary>The build's RuntimeIdentifier; empty for a portable build.</summary>
    public string RuntimeIdentifier { get; set; } = string.Empty;

    /// <summary>One target by name (QuantBuildTarget), or "all" (QuantBuildTargets=all).</summary>
    public string TargetName { get; set; } = string.Empty;

    /// <summary>
    /// Where the tool's listing is kept between builds; reused while it is newer than the config and the tool, so a
    /// no-op publish starts no process at all.
    /// </summary>
    public string ListingCache { get; set; } = string.Empty;

    /// <summary>Put the first selected target's model in place of the fp32 file.</summary>
    public bool ReplaceModel { get; set; } = true;

    /// <summary>Selected targets: ItemSpec is the name; metadata Device, OutputPath, ManifestPath, Line.</summary>
    [Output]
    public ITaskItem[] SelectedTargets { get; private set; } = [];

    /// <summary>Files the run reads (config, model, data).</summary>
    [Output]
    public ITaskItem[] InputFiles { get; private set; } = [];

    /// <summary>Files to ship: ItemSpec is the file in the intermediate folder, metadata RelativePath is where it goes.</summary>
    [Output]
    public ITaskItem[] OutputFiles { get; private set; } = [];

    /// <summary>The fp32 model's relative path in the output when a quantized model replaces it; empty otherwise.</summary>
    [Output]
    public string ReplacedRelativePath { get; private set; } = string.Empty;

    /// <inheritdoc />
    public override bool Execute()
    {
        if (!File.Exists(ConfigFile))
        {
            Diagnostics.Error(Log, "QB5005", ConfigFile, $"The project references QuantBuild.MSBuild but has no quantize config at {ConfigFile}.",
                "add a quantize.yaml next to the project (dotnet quantbuild init), point QuantBuildConfig at one, or set QuantBuildSkip=true");
            return false;
        }

        string stdout;
        if (ListingIsFresh())
        {
            stdout = File.ReadAllText(ListingCache);
            Log.LogMessage(MessageImportance.Low, $"QuantBuild: targets of {ConfigFile} from {ListingCache}");
        }
        else
        try
        {
            (int code, stdout, List<string> errors) = Tool()
                .Run(["targets", "--json", "-c", ConfigFile], _ => { }, Cancellation);
            if (code != 0)
            {
                bool logged = false;
                foreach (string line in errors)
                {
                    logged |= Diagnostics.TryLog(Log, line, out _);
                }

                if (!logged)
                {
                    Diagnostics.Error(Log, "QB5002", ConfigFile, $"'quantbuild targets' exited with code {code}: {string.Join(" ", errors)}",
                        "run `dotnet quantbuild targets -c <config>` to see the problem");
                }

                return false;
            }

            if (!string.IsNullOrEmpty(ListingCache))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(ListingCache)!);
                string temp = ListingCache + "." + Guid.NewGuid().ToString("N") + ".tmp";
                File.WriteAllText(temp, stdout);
                File.Move(temp, ListingCache, overwrite: true);
            }
        }
        catch (ToolException e)
        {
            Diagnostics.Error(Log, "QB5000", null, e.Message, e.Fix);
            return false;
        }

        using JsonDocument listing = JsonDocument.Parse(stdout);
        JsonElement root = listing.RootElement;
        string modelPath = root.GetProperty("modelPath").GetString()!;
        var all = root.GetProperty("targets").EnumerateArray().ToList();
        List<JsonElement> selected = Select(all, out bool byRid);
        if (Log.HasLoggedErrors)
        {
            return false;
        }

        InputFiles = root.GetProperty("inputs").EnumerateArray().Select(i => (ITaskItem)new TaskItem(i.GetString())).ToArray();
        string modelRelative = Relative(modelPath);
        var targets = new List<ITaskItem>();
        var outputs = new List<ITaskItem>();
        bool replacing = ReplaceModel && byRid && selected.Count > 0;
        ReplacedRelativePath = replacing ? modelRelative : string.Empty;
        foreach (JsonElement target in selected)
        {
            string name = target.GetProperty("name").GetString()!;
            string yamlOutput = target.GetProperty("outputPath").GetString()!;
            string built = Path.Combine(IntermediateDirectory, Path.GetFileName(yamlOutput));
            string manifest = Manifest(built);
            // The first target serving the RID takes the fp32 file's place, so the app loads the same path unchanged.
            string relative = replacing && targets.Count == 0 ? modelRelative : Relative(yamlOutput);
            var item = new TaskItem(name);
            item.SetMetadata("Device", target.GetProperty("device").GetString());
            item.SetMetadata("OutputPath", built);
            item.SetMetadata("ManifestPath", manifest);
            item.SetMetadata("RelativePath", relative);
            item.SetMetadata("Line", target.GetProperty("line").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
            targets.Add(item);
            outputs.Add(Output(built, relative, name));
            outputs.Add(Output(manifest, Manifest(relative), name));
            Log.LogMessage(MessageImportance.Normal, $"QuantBuild: target '{name}' ({item.GetMetadata("Device")}) ships as {relative}");
        }

        SelectedTargets = targets.ToArray();
        OutputFiles = outputs.ToArray();
        return true;
    }

    private bool ListingIsFresh()
    {
        if (string.IsNullOrEmpty(ListingCache) || !File.Exists(ListingCache))
        {
            return false;
        }

        DateTime listed = File.GetLastWriteTimeUtc(ListingCache);
        return listed > File.GetLastWriteTimeUtc(ConfigFile) && (!File.Exists(ToolPath) || listed > File.GetLastWriteTimeUtc(ToolPath));
    }

    private List<JsonElement> Select(List<JsonElement> all, out bool byRid)
    {
        byRid = false;
        if (string.Equals(TargetName, "all", StringComparison.OrdinalIgnoreCase))
        {
            return all;
        }

        if (!string.IsNullOrEmpty(TargetName))
        {
            var named = all.Where(t => t.GetProperty("name").GetString() == TargetName).ToList();
            if (named.Count == 0)
            {
                Diagnostics.Error(Log, "QB5004", ConfigFile, $"QuantBuildTarget is '{TargetName}', but {ConfigFile} has no such target.",
                    $"set QuantBuildTarget to one of: {string.Join(", ", all.Select(t => t.GetProperty("name").GetString()))}, or to 'all'");
            }

            byRid = !string.IsNullOrEmpty(RuntimeIdentifier);
            return named;
        }

        if (string.IsNullOrEmpty(RuntimeIdentifier))
        {
            // A portable app runs anywhere: ship every target beside the fp32 model and let the app choose.
            return all;
        }

        byRid = true;
        var serving = all.Where(t => t.GetProperty("runtimeIdentifiers").EnumerateArray().Any(r => r.GetString() == RuntimeIdentifier)).ToList();
        if (serving.Count == 0)
        {
            Log.LogWarning(null, "QB5003", null, ConfigFile, 0, 0, 0, 0,
                $"No target's device profile serves RuntimeIdentifier '{RuntimeIdentifier}', so the fp32 model ships unquantized. " +
                $"Fix: add a target whose device serves it (quantbuild targets lists them), or set QuantBuildTarget.");
        }

        return serving;
    }

    private string Relative(string path)
    {
        string relative = Path.GetRelativePath(ProjectDirectory, path);
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? Path.GetFileName(path) : relative;
    }

    private static string Manifest(string modelPath) => Path.ChangeExtension(modelPath, null) + ".manifest.json";

    private static TaskItem Output(string path, string relative, string target)
    {
        var item = new TaskItem(path);
        item.SetMetadata("RelativePath", relative);
        item.SetMetadata("QuantBuildTarget", target);
        return item;
    }
}
