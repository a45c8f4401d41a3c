namespace QuantBuild.Engine.Config;

/// <summary>
/// "Did you mean" for names the user typed (keys, device profiles, passes, option names): the candidates within a
/// small Damerau-Levenshtein distance, closest first, after BenchmarkDotNet's CorrectionsSuggester.
/// </summary>
public static class NameSuggester
{
    /// <summary>The closest candidates to <paramref name="typed"/>, best first; empty when nothing is close.</summary>
    public static IReadOnlyList<string> Suggest(string typed, IEnumerable<string> candidates)
    {
        // Case and separator slips (Batch-Size for batch_size) cost nothing, so compare a folded form.
        string folded = Fold(typed);
        int limit = Math.Max(2, folded.Length / 3);
        var scored = new List<(string Name, int Distance)>();
        foreach (string candidate in candidates.Distinct(StringComparer.Ordinal))
        {
            int d = Distance(folded, Fold(candidate));
            // A prefix typed in full ("smooth" for "smoothquant") is a likely meaning even when far in edits.
            if (d <= limit || (folded.Length >= 3 && Fold(candidate).StartsWith(folded, StringComparison.Ordinal)))
            {
                scored.Add((candidate, d));
            }
        }

        // Only the closest ones: 'cpu-x64-vnni' for 'cpu-x64-vnii', not every profile that happens to be near too.
        int best = scored.Count == 0 ? 0 : scored.Min(s => s.Distance);
        return scored.Where(s => s.Distance == best).OrderBy(s => s.Name, StringComparer.Ordinal)
            .Select(s => s.Name).Take(3).ToList();
    }

    /// <summary>" Did you mean 'x'?" (or 'x' or 'y'), or empty when nothing is close.</summary>
    public static string DidYouMean(string typed, IEnumerable<string> candidates)
    {
        IReadOnlyList<string> s = Suggest(typed, candidates);
        return s.Count == 0 ? string.Empty : " Did you mean " + string.Join(" or ", s.Select(x => $"'{x}'")) + "?";
    }

    /// <summary>Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1.</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                int best = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    best = Math.Min(best, d[i - 2, j - 2] + 1);
                }

                d[i, j] = best;
            }
        }

        return d[a.Length, b.Length];
    }

    private static string Fold(string s) => s.ToLowerInvariant().Replace('-', '_');
}
