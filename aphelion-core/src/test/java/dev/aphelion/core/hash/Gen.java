package dev.aphelion.core.hash;
public class Gen { public static void main(String[] a) { GoldenGraphs.all().forEach((k,v)->System.out.println(k+" | "+GraphDigest.of(v).hex())); } }
