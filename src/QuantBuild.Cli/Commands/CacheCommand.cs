using System.CommandLine;
using System.Globalization;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Cache;
using QuantBuild.Engine.Config;
using Serilog;
using Spectre.Console;

namespace QuantBuild.Cli.Commands;

/// <summary>
/// <c>quantbuild cache stats|prune|push</c>: the local result cache and the shared remote that quantize.yaml's
/// <c>cache.remote</c> names (credential from the environment). Also opens the cache a run uses.
/// </summary>
public static class CacheCommand
{
    /// <summary>How long the end of a run waits for the uploads still under way.</summary>
    public static readonly TimeSpan UploadWait = TimeSpan.FromMinutes(10);

    /// <summary><c>--no-remote-cache</c>, for run and the cache verbs.</summary>
    public static Option<bool> NoRemoteOption() => new("--no-remote-cache")
    {
        Description = "Use only the local result cache, even when quantize.yaml configures cache.remote.",
    };

    /// <summary>The local cache at <paramref name="folder"/> (default: the usual one), in front of the config's remote unless <paramref name="useRemote"/> is false.</summary>
    public static ResultCache Open(string? folder, QuantizeConfig? config, ILogger log, bool useRemote) =>
        new(folder ?? ResultCache.DefaultRoot(), useRemote && config is not null ? RemoteCacheFactory.Open(config, log) : null, log);

    /// <summary>Builds the verb.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("cache", "Look after the result cache: entry counts and sizes, pruning, and uploading local results to the shared remote.");
        command.Subcommands.Add(Stats(context));
        command.Subcommands.Add(Prune(context));
        command.Subcommands.Add(Push(context));
        return command;
    }

    private static Command Stats(CliContext context)
    {
        var (config, cacheDir, noRemote) = Common();
        var json = new Option<bool>("--json") { Description = "Print the statistics as JSON on stdout." };
        var command = new Command("stats", "Count the entries and bytes of the local cache and of the remote (when quantize.yaml has cache.remote).") { config, cacheDir, noRemote, json };
        command.SetAction(parse =>
        {
            using Serilog.Core.Logger log = CommonOptions.Logger(context);
            ResultCache cache = OpenFor(parse, config, cacheDir, noRemote, log, needRemote: false);
            var tiers = new List<CacheStatistics> { CacheMaintenance.Local(cache) };
            if (cache.Remote is { } remote)
            {
                tiers.Add(Remote(remote, ct => CacheMaintenance.RemoteAsync(remote.Store, ct)));
            }

            if (parse.GetValue(json))
            {
                JsonOutput.Write(context.Out, tiers);
                return ExitCodes.Ok;
            }

            var table = new Table().Border(TableBorder.Simple).AddColumns("cache", "entries", "size", "oldest", "newest");
            foreach (CacheStatistics t in tiers)
            {
                table.AddRow(Markup.Escape(t.Location), Sizes.Count(t.Entries), Sizes.Bytes(t.Bytes), Date(t.Oldest), Date(t.Newest));
            }

            context.Console.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Prune(CliContext context)
    {
        var (config, cacheDir, noRemote) = Common();
        var olderThan = new Option<string?>("--older-than") { Description = "Delete entries not used (local) or stored (remote) for this long: 30d, 12h, 90m." };
        var maxSize = new Option<string?>("--max-size") { Description = "Then delete the least recently used until at most this much is left: 5GB, 500MB." };
        var remoteToo = new Option<bool>("--remote") { Description = "Prune the remote too (by the age of each entry's upload). Every agent sharing it is affected." };
        var command = new Command("prune", "Delete old entries; a deleted entry only costs a future run its time, never a wrong result.")
        {
            config, cacheDir, noRemote, olderThan, maxSize, remoteToo,
        };
        command.SetAction(parse =>
        {
            TimeSpan? age = parse.GetValue(olderThan) is { } a ? ParseAge(a) : null;
            long? size = parse.GetValue(maxSize) is { } m ? ParseSize(m) : null;
            if (age is null && size is null)
            {
                context.Error.WriteLine("error: give --older-than, --max-size or both.");
                return ExitCodes.Usage;
            }

            using Serilog.Core.Logger log = CommonOptions.Logger(context);
            bool remote = parse.GetValue(remoteToo);
            ResultCache cache = OpenFor(parse, config, cacheDir, noRemote, log, needRemote: remote);
            DateTimeOffset now = DateTimeOffset.UtcNow;
            int local = CacheMaintenance.PruneLocal(cache, age, size, now);
            context.Out.WriteLine($"{cache.Root}: {local} entries deleted");
            if (remote && cache.Remote is { } shared)
            {
                int deleted = Remote(shared, ct => CacheMaintenance.PruneRemoteAsync(shared.Store, age, size, now, ct));
                context.Out.WriteLine($"{shared.Location}: {deleted} entries deleted");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Push(CliContext context)
    {
        var (config, cacheDir, _) = Common();
        var command = new Command("push", "Upload every local entry the remote does not have yet (results stored while it was unreachable, or before it was configured).")
        {
            config, cacheDir,
        };
        command.SetAction(parse =>
        {
            using Serilog.Core.Logger log = CommonOptions.Logger(context);
            ResultCache cache = OpenFor(parse, config, cacheDir, noRemote: null, log, needRemote: true);
            RemoteResultCache remote = cache.Remote!;
            (int uploaded, int present) = Remote(remote, ct => CacheMaintenance.PushAsync(cache, remote, ct));
            context.Out.WriteLine($"{remote.Location}: {uploaded} entries uploaded, {present} already there");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static (Option<string> Config, Option<string?> CacheDir, Option<bool> NoRemote) Common() =>
        (CommonOptions.Config(), new Option<string?>("--cache") { Description = "The local cache folder (default $QUANTBUILD_CACHE or ~/.cache/quantbuild/results)." }, NoRemoteOption());

    // The yaml only says where the remote is; without one (or with --no-remote-cache) the verbs work on the local folder.
    private static ResultCache OpenFor(ParseResult parse, Option<string> config, Option<string?> cacheDir, Option<bool>? noRemote, ILogger log, bool needRemote)
    {
        string path = parse.GetValue(config)!;
        bool explicitConfig = parse.GetResult(config) is { Implicit: false };
        bool useRemote = noRemote is null || !parse.GetValue(noRemote);
        QuantizeConfig? loaded = useRemote && (explicitConfig || File.Exists(path)) ? CommonOptions.LoadConfig(path) : null;
        ResultCache cache = Open(parse.GetValue(cacheDir), loaded, log, useRemote);
        if (needRemote && cache.Remote is null)
        {
            RemoteCacheConfig? remote = loaded?.Cache.Remote;
            throw new QuantBuildException(CacheCodes.NoCredentials,
                remote is null ? $"{Path.GetFullPath(path)} configures no cache.remote, so there is no remote to work on."
                    : $"The remote cache cannot be used: {remote.ConnectionVariable} is not set or is not a connection string or SAS URL.",
                remote is null ? "add cache: remote: {kind: azure-blob, container: NAME} to quantize.yaml (docs/cache.md), or pass -c with the yaml that has it"
                    : $"set {remote.ConnectionVariable} to the storage account's connection string or a SAS URL",
                Path.GetFullPath(path));
        }

        return cache;
    }

    // The verbs talk to the remote directly: a failure is this command's error (QB5100), not a warning as in a run.
    private static T Remote<T>(RemoteResultCache remote, Func<CancellationToken, Task<T>> call)
    {
        try
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(30));
            return call(limit.Token).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not (OutOfMemoryException or QuantBuildException))
        {
            throw new QuantBuildException(CacheCodes.RemoteUnavailable, $"The remote cache {remote.Location} failed: {e.Message.Split('\n')[0].Trim()}",
                "check the network and the credential in the connection variable, then run the command again");
        }
    }

    private static TimeSpan ParseAge(string text)
    {
        if (text.Length >= 2 && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double n) && n >= 0)
        {
            switch (char.ToLowerInvariant(text[^1]))
            {
                case 'd': return TimeSpan.FromDays(n);
                case 'h': return TimeSpan.FromHours(n);
                case 'm': return TimeSpan.FromMinutes(n);
                case 's': return TimeSpan.FromSeconds(n);
            }
        }

        throw new QuantBuildException(ConfigErrorCodes.OutOfRange, $"--older-than '{text}' is not an age.", "write a number with d, h, m or s: 30d, 12h, 90m");
    }

    private static long ParseSize(string text)
    {
        string t = text.Trim().ToUpperInvariant();
        (string unit, long scale) = t.EndsWith("TB", StringComparison.Ordinal) ? ("TB", 1L << 40) : t.EndsWith("GB", StringComparison.Ordinal) ? ("GB", 1L << 30)
            : t.EndsWith("MB", StringComparison.Ordinal) ? ("MB", 1L << 20) : t.EndsWith("KB", StringComparison.Ordinal) ? ("KB", 1L << 10) : ("", 1L);
        if (double.TryParse(t[..^unit.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out double n) && n >= 0)
        {
            return (long)(n * scale);
        }

        throw new QuantBuildException(ConfigErrorCodes.OutOfRange, $"--max-size '{text}' is not a size.", "write a number with a unit: 5GB, 500MB");
    }

    private static string Date(DateTimeOffset? when) => when?.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "-";
}
