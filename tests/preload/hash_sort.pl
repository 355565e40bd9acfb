#!/usr/bin/perl
# hash_sort.pl N - fills, churns and sorts a hash of N entries and prints a
# digest, for comparing a run on heaplab with one on glibc's malloc (Debian's
# perl uses the system malloc).
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);

my $n = shift // 100000;
my $x = 12345;
sub next_random { $x = ($x * 1103515245 + 12345) % 2147483648; return $x; }

my %h;
for my $i (1 .. $n) {
    my $r = next_random();
    $h{"k$r"} = [$i, "v" x ($i % 40), { n => $r }];
}
my $j = 0;
for my $k (sort keys %h) {
    delete $h{$k} if $j++ % 3 == 0;
}
$h{"f" . next_random()} = join(",", 1 .. ($_ % 30)) for 1 .. $n / 3;
my @keys = sort { $a cmp $b } keys %h;
my @by_value = sort { (ref $h{$a} ? $h{$a}[0] : length $h{$a}) <=> (ref $h{$b} ? $h{$b}[0] : length $h{$b}) or $a cmp $b } @keys;
my $text = join("\n", map { my $v = $h{$_}; ref $v ? "$_=$v->[0]:$v->[1]:$v->[2]{n}" : "$_=$v" } @keys);
print "keys ", scalar(@keys), ", first $keys[0], last $keys[-1]\n";
print "by value: first $by_value[0], last $by_value[-1]\n";
print "md5 ", md5_hex($text), "\n";
