using System.Globalization;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Plugins.Nupes;

/// <summary>
/// The calibration inputs of the coded layers, captured in groups that fit a memory budget instead of all at once: a
/// one-sample probe measures each tensor's bytes per sample, then the tensors are packed greedily, in the order the
/// layers use them, into groups of at most the budget at the full sample count. Only one group is held at a time. A
/// tensor that alone exceeds the budget is captured on its own with as many samples as fit (at least one), with a log
/// line. Small models fit one group: one capture, exactly as if everything were captured at once.
/// </summary>
internal sealed class ActivationGroups
{
    private readonly IPassContext _context;
    private readonly List<(List<string> Tensors, int Samples)> _groups = new();
    private readonly Dictionary<string, int> _groupOf = new(StringComparer.Ordinal);
    private int _loaded = -1;
    private IReadOnlyDictionary<string, DenseTensor> _current = new Dictionary<string, DenseTensor>();

    private ActivationGroups(IPassContext context) => _context = context;

    /// <summary>Groups planned.</summary>
    public int GroupCount => _groups.Count;

    /// <summary>Captures run so far (a group used again after another was loaded is captured again).</summary>
    public int Captures { get; private set; }

    /// <summary>Plans the groups for <paramref name="tensors"/> (in first-use order) at <paramref name="samples"/> samples each.</summary>
    public static ActivationGroups Plan(IPassContext context, IReadOnlyList<string> tensors, int samples, long budgetBytes)
    {
        var plan = new ActivationGroups(context);
        if (tensors.Count == 0)
        {
            return plan;
        }

        IReadOnlyDictionary<string, DenseTensor> probe = context.CaptureActivations(tensors, 1);
        List<string>? open = null;
        long openBytes = 0;
        foreach (string tensor in tensors.Distinct(StringComparer.Ordinal))
        {
            DenseTensor one = probe[tensor];
            long perSample = Math.Max(1, one.Data.Length / Math.Max(1, one.Shape.Length > 0 ? one.Shape[0] : 1));
            long full = perSample * samples;
            if (full > budgetBytes)
            {
                int fit = (int)Math.Clamp(budgetBytes / perSample, 1, samples);
                context.Log.Information(string.Create(CultureInfo.InvariantCulture,
                    $"input '{tensor}' takes {perSample / 1048576.0:0.##} MB per sample: captured for {fit} of {samples} samples to stay within capture_budget_mb ({budgetBytes / 1048576} MB)"));
                plan.Add([tensor], fit);
                open = null;
                continue;
            }

            if (open is null || openBytes + full > budgetBytes)
            {
                open = [];
                openBytes = 0;
                plan.Add(open, samples);
            }

            open.Add(tensor);
            plan._groupOf[tensor] = plan._groups.Count - 1;
            openBytes += full;
        }

        return plan;
    }

    /// <summary>The captured values of <paramref name="tensor"/>, samples on axis 0; loads its group (dropping the one held) if needed.</summary>
    public DenseTensor Get(string tensor)
    {
        int group = _groupOf[tensor];
        if (group != _loaded)
        {
            _current = new Dictionary<string, DenseTensor>(); // let the previous group go before capturing the next
            (List<string> tensors, int samples) = _groups[group];
            _current = _context.CaptureActivations(tensors, samples);
            _loaded = group;
            Captures++;
        }

        return _current[tensor];
    }

    private void Add(List<string> tensors, int samples)
    {
        _groups.Add((tensors, samples));
        foreach (string t in tensors)
        {
            _groupOf[t] = _groups.Count - 1;
        }
    }
}
