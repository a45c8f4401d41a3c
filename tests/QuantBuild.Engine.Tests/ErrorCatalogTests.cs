using System.Text.RegularExpressions;
using QuantBuild.Engine.Tests.Data;

namespace QuantBuild.Engine.Tests;

/// <summary>docs/errors.md is the catalogue users look codes up in: every code the product can emit is in it, once.</summary>
public sealed partial class ErrorCatalogTests
{
    [Fact]
    public void Every_code_the_sources_emit_is_documented_and_every_documented_code_is_emitted()
    {
        List<string> rows = File.ReadAllLines(Path.Combine(TestFiles.RepoRoot, "docs", "errors.md"))
            .Select(line => Row().Match(line)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(rows.Count, rows.Distinct(StringComparer.Ordinal).Count());
        Assert.True(rows.Count > 80, $"only {rows.Count} rows parsed from docs/errors.md");

        var emitted = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string folder in new[] { "src", "plugins", "eng" })
        {
            foreach (string file in Directory.EnumerateFiles(Path.Combine(TestFiles.RepoRoot, folder), "*", SearchOption.AllDirectories))
            {
                if (file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                    || file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                    || Path.GetExtension(file) is not (".cs" or ".targets" or ".props"))
                {
                    continue;
                }

                foreach (string line in File.ReadLines(file))
                {
                    string code = line.TrimStart();
                    if (code.StartsWith("//", StringComparison.Ordinal) || code.StartsWith("<!--", StringComparison.Ordinal))
                    {
                        continue; // ranges named in comments ("QB1200–QB1249") are not codes
                    }

                    foreach (Match m in Code().Matches(line))
                    {
                        emitted.Add(m.Value);
                    }
                }
            }
        }

        Assert.Empty(emitted.Except(rows, StringComparer.Ordinal)); // emitted but not documented
        Assert.Empty(rows.Except(emitted, StringComparer.Ordinal)); // documented but never emitted
        Assert.Equal(rows.Order(StringComparer.Ordinal), rows); // in order, so a reader can scan for a code
    }

    [GeneratedRegex(@"^\| (QB\d{4}) \|")]
    private static partial Regex Row();

    [GeneratedRegex(@"QB\d{4}")]
    private static partial Regex Code();
}
