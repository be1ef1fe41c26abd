-- Grassroots organisations of the period broken down by sector: the sum of each organisation's
-- consolidated subtree figures in one published version, and how many organisations each sector has.
{% from "is_active.sql" import is_active %}
with grassroots as (
    select code, sector
    from unit
    where kind in ('grassroots_committee', 'grassroots_cell')
      and {{ is_active("unit") }}
),

figures as (
    select grassroots.sector, published.indicator_code, sum(published.number) as number
    from grassroots
    inner join published_value as published
        on published.unit_code = grassroots.code
        and published.period = :period
        and published.version = :version
    where published.number is not null
    group by grassroots.sector, published.indicator_code
),

organisations as (
    select sector, 'grassroots_units' as indicator_code, count(*) as number
    from grassroots
    group by sector
)

select sector, indicator_code, number from figures
union all
select sector, indicator_code, number from organisations
