using QuantBuild.Engine.Calibration;

namespace QuantBuild.Engine.Tests.Calibration;

/// <summary>The budget rule: how many passes, and which batch size, a set of tensor sizes gets.</summary>
public sealed class CaptureGroupsTests
{
    // A pass may hold budget / CaptureGroups.Copies of captured outputs: budgets below are written as 3 × that.
    private const long Mb = 1L << 20;

    [Fact]
    public void Tensors_that_fit_at_the_configured_batch_make_one_group_at_that_batch()
    {
        CaptureGroups plan = CaptureGroups.Plan([("a", 100_000), ("b", 50_000)], 3 * 32 * 150_000, 32, deriveBatch: true);

        Assert.Equal(32, plan.BatchSize);
        Assert.Equal(["a", "b"], Assert.Single(plan.Groups));
    }

    [Fact]
    public void A_derived_batch_shrinks_before_the_tensors_are_split()
    {
        // 1 MB per sample in all, 12 MB per pass: twelve samples keep one group.
        CaptureGroups plan = CaptureGroups.Plan([("a", Mb / 2), ("b", Mb / 2)], 36 * Mb, 32, deriveBatch: true);

        Assert.Equal(12, plan.BatchSize);
        Assert.Single(plan.Groups);
    }

    [Fact]
    public void Below_the_preferred_batch_the_tensors_are_split_into_groups_that_each_fit()
    {
        // 10 tensors of 1 MB per sample, 16 MB per pass: at the preferred batch of 8, two tensors per group.
        var tensors = Enumerable.Range(0, 10).Select(i => ($"t{i}", Mb)).ToList();

        CaptureGroups plan = CaptureGroups.Plan(tensors, 3 * 16 * Mb, 32, deriveBatch: true);

        Assert.Equal(CaptureGroups.PreferredMinimumBatch, plan.BatchSize);
        Assert.Equal(5, plan.Groups.Count);
        Assert.All(plan.Groups, g => Assert.Equal(2, g.Count));
        Assert.Equal(tensors.Select(t => t.Item1), plan.Groups.SelectMany(g => g));
    }

    [Fact]
    public void A_fixed_batch_is_kept_and_only_the_group_count_follows_the_budget()
    {
        var tensors = Enumerable.Range(0, 6).Select(i => ($"t{i}", Mb)).ToList();

        CaptureGroups wide = CaptureGroups.Plan(tensors, 3 * 2 * 6 * Mb, 2, deriveBatch: false);
        CaptureGroups narrow = CaptureGroups.Plan(tensors, 3 * 2 * 2 * Mb, 2, deriveBatch: false);
        CaptureGroups tiny = CaptureGroups.Plan(tensors, 3, 2, deriveBatch: false);

        Assert.Equal([2, 2, 2], new[] { wide.BatchSize, narrow.BatchSize, tiny.BatchSize });
        Assert.Single(wide.Groups);
        Assert.Equal(3, narrow.Groups.Count);
        // Each tensor alone is over the budget at the batch the user fixed: the least memory that batch allows.
        Assert.Equal(6, tiny.Groups.Count);
    }

    [Fact]
    public void A_derived_batch_never_lets_the_largest_tensor_overflow_a_pass()
    {
        CaptureGroups plan = CaptureGroups.Plan([("small", 1), ("huge", 10 * Mb)], 3 * 25 * Mb, 32, deriveBatch: true);

        Assert.Equal(2, plan.BatchSize);
        Assert.Single(plan.Groups);
    }
}
