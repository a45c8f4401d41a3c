using System.Diagnostics;
using System.Text.Json;
using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Engine.Plugins;

/// <summary>
/// Restores a plugin package with the dotnet CLI, the way a project would: a generated project referencing exactly
/// <c>id</c> <c>[version]</c> is restored with the NuGet.Config that applies to the yaml's folder (so the user's
/// configured sources and credentials are used) into the global packages folder. The restore graph
/// (project.assets.json) then says where every dependency's runtime files are.
/// </summary>
internal static class PackageRestorer
{
    private static readonly TimeSpan RestoreTimeout = TimeSpan.FromMinutes(5);

    public static RestoredPackage Restore(string id, string version, string configDirectory, string? packagesDirectory)
    {
        string packages = packagesDirectory
            ?? Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string tfm = $"net{Environment.Version.Major}.{Environment.Version.Minor}";
        string work = Path.Combine(Path.GetTempPath(), "quantbuild-restore", $"{id}.{version}".ToLowerInvariant(), Hash(packages + "|" + configDirectory));
        string assetsPath = Path.Combine(work, "obj", "project.assets.json");
        string packageFolder = Path.Combine(packages, id.ToLowerInvariant(), version.ToLowerInvariant());
        if (!File.Exists(assetsPath) || !File.Exists(Path.Combine(packageFolder, ".nupkg.metadata")))
        {
            Directory.CreateDirectory(work);
            File.WriteAllText(Path.Combine(work, "restore.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>{tfm}</TargetFramework>
                    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
                    <ImportDirectoryBuildProps>false</ImportDirectoryBuildProps>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="{System.Security.SecurityElement.Escape(id)}" Version="[{System.Security.SecurityElement.Escape(version)}]" />
                  </ItemGroup>
                </Project>
                """);
            var args = new List<string> { "restore", Path.Combine(work, "restore.csproj"), "--packages", packages, "--nologo", "-v", "q" };
            if (FindNuGetConfig(configDirectory) is { } nugetConfig)
            {
                args.AddRange(["--configfile", nugetConfig]);
            }

            (int exit, string output) = RunDotnet(args, work);
            if (exit != 0)
            {
                throw Failed(id, version, $"'dotnet restore' exited with {exit}: {LastLines(output)}");
            }
        }

        return Read(id, version, assetsPath, tfm);
    }

    private static RestoredPackage Read(string id, string version, string assetsPath, string tfm)
    {
        using JsonDocument assets = JsonDocument.Parse(File.ReadAllBytes(assetsPath));
        JsonElement root = assets.RootElement;
        string packagesRoot = root.GetProperty("packageFolders").EnumerateObject().First().Name;
        JsonElement libraries = root.GetProperty("libraries");
        JsonElement target = root.GetProperty("targets").EnumerateObject().First(t => !t.Name.Contains('/', StringComparison.Ordinal)).Value;
        var managed = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var natives = new Dictionary<string, string>(StringComparer.Ordinal);
        IReadOnlyList<string> rids = PluginLoadContext.RuntimeIdentifiers();
        string? main = null;
        foreach (JsonProperty library in target.EnumerateObject())
        {
            if (!library.Value.TryGetProperty("type", out JsonElement type) || type.GetString() != "package")
            {
                continue;
            }

            string folder = Path.Combine(packagesRoot, libraries.GetProperty(library.Name).GetProperty("path").GetString()!);
            bool isPlugin = library.Name.Equals($"{id}/{version}", StringComparison.OrdinalIgnoreCase);
            if (library.Value.TryGetProperty("runtime", out JsonElement runtime))
            {
                foreach (JsonProperty file in runtime.EnumerateObject().Where(f => f.Name.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)))
                {
                    string path = Path.GetFullPath(Path.Combine(folder, file.Name));
                    managed[Path.GetFileNameWithoutExtension(path)] = path;
                    if (isPlugin && (main is null || Path.GetFileNameWithoutExtension(path).Equals(id, StringComparison.OrdinalIgnoreCase)))
                    {
                        main = path;
                    }
                }
            }

            if (library.Value.TryGetProperty("runtimeTargets", out JsonElement targets))
            {
                foreach (JsonProperty file in targets.EnumerateObject())
                {
                    if (file.Value.GetProperty("assetType").GetString() == "native" && rids.Contains(file.Value.GetProperty("rid").GetString()))
                    {
                        natives.TryAdd(Path.GetFileName(file.Name), Path.GetFullPath(Path.Combine(folder, file.Name)));
                    }
                }
            }
        }

        if (main is null)
        {
            throw Failed(id, version, $"the package has no lib/ assembly that {tfm} can load");
        }

        return new RestoredPackage(main, managed, natives);
    }

    private static (int Exit, string Output) RunDotnet(IReadOnlyList<string> args, string workingDirectory)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        // The restore must not inherit an MSBuild node or test host's settings.
        start.Environment.Remove("MSBuildExtensionsPath");
        start.Environment.Remove("MSBUILD_EXE_PATH");
        start.Environment.Remove("MSBuildSDKsPath");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(RestoreTimeout))
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"timed out after {RestoreTimeout.TotalMinutes} minutes");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static string? FindNuGetConfig(string directory)
    {
        for (DirectoryInfo? d = new(directory); d is not null; d = d.Parent)
        {
            foreach (string name in new[] { "nuget.config", "NuGet.Config", "NuGet.config" })
            {
                string path = Path.Combine(d.FullName, name);
                if (File.Exists(path))
                {
                    return path;
                }
            }
        }

        return null;
    }

    private static string LastLines(string output) =>
        string.Join(" | ", output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(5));

    private static string Hash(string text) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..12].ToLowerInvariant();

    private static QuantBuildException Failed(string id, string version, string why) =>
        new(PluginErrorCodes.PackageRestoreFailed, $"plugin package {id} {version} could not be restored: {why}",
            "check the id and version, and that a NuGet source in the NuGet.Config for the yaml's folder (or your user config) serves it");
}
